"""Message catalogs: every reply altlas sends to people, in English and Turkish. One module, so
a translator sees every message and a missing key shows beside its neighbours."""

from __future__ import annotations

from typing import Any

EN: dict[str, str] = {
    "help": (
        "Commands:\n"
        "• do <request> [--mode normal|explore|dream|chaos] [--persona NAME] [--env ENV] — "
        "plan a request, gate it, run what may run\n"
        "• status <id> — a task, run or approval\n"
        "• runs — recent runs\n"
        "• approvals — what waits for your approval\n"
        "• approve <id> · deny <id> <reason>\n"
        "• answer <task id> <choice or words> — answer what altlas asked\n"
        "• done <run id> <step> [note] — you did a step altlas left to a person\n"
        "• atlas <query> · leaderboard [elo|bt|<runbook words>]\n"
        "• incidents [all|<id>] — incidents from alerts, with their likely causes\n"
        "• models · models activate <name> [why] — the models that plan; change it (approved)\n"
        "• arena <request|task id> — two planners' plans as A and B: vote which is better\n"
        "• run <runbook> NAME=VALUE … · save run <run id> as runbook <name>\n"
        "• audit verify · audit replay --until TIME\n"
        "• help"),
    "usage.do": "Usage: do <request> [--mode M] [--persona P] [--env E] [--chaos-level N]",
    "usage.status": "Usage: status <task, run or approval id>",
    "usage.approve": "Usage: approve <approval id>",
    "usage.deny": "Usage: deny <approval id> <reason>",
    "usage.done": "Usage: done <run id> <step id> [what you did]",
    "usage.atlas": "Usage: atlas <query>",
    "usage.audit": "Usage: audit verify · audit replay --until 2026-11-23T14:00:00Z",
    "unknown_command": "I don't know “{word}”. Try: help",
    "unknown_person": ("I don't know {identity}. Ask an admin to add it to a person in the "
                       "policy (people → identities)."),
    "policy_unavailable": ("The policy file cannot be used, so altlas takes no command from "
                           "chat until an admin fixes it: {reason}"),
    "needs_role": ("{person} may not {doing}: that needs the {role} role, which an admin "
                   "gives in the policy (people → roles)."),
    "doing.read": "read what altlas recorded",
    "doing.request": "ask for work",
    "doing.plan": "write the plan of this task",
    "doing.answer": "answer what altlas asked about this task",
    "doing.vote": "approve",
    "doing.deny": "deny",
    "doing.cancel": "withdraw this approval request",
    "doing.start": "start a run by hand",
    "doing.report": "report a step run outside altlas",
    "doing.confirm": "confirm a step done by hand",
    "doing.reject": "reject a task",
    "doing.expire": "expire approvals",
    "doing.audit": "audit the history",
    "doing.import": "import an .atlas",
    "doing.judge": "judge plans in the arena",
    "doing.replay": "replay the views into a database",
    "doing.forget": "ask to forget a person",
    "doing.personal_data": "see everything recorded about a person",
    "doing.register_model": "register a model",
    "doing.activate_model": "change the model that plans",
    "doing.train": "build a training set or train a model",
    "doing.publish_runbook": "publish a runbook",
    "doing.run_runbook": "run a runbook",
    "doing.schedule_runbook": "schedule a runbook",
    "doing.end_sessions": "end the dashboard sessions of another person",
    "rejected": "I could not plan “{request}”: {reason}",
    "refused": "Refused: {reason}",
    "plan.technical_expert": "Plan for “{request}” — {n} step(s), by {segmenter}:",
    "plan.researcher": ("Plan for “{request}” — {n} step(s), by {segmenter}; each step with "
                        "the rule that sets its risk:"),
    "plan.project_manager": "Here is what will happen for “{request}” ({n} step(s)):",
    "plan.none": "No plan yet for “{request}”: a worker plans it once one runs.",
    "plan.none.asked": "No plan yet for “{request}” ({status}): altlas asked {requester} first.",
    "plan.creative_writer": "The script for “{request}”, in {n} act(s):",
    "step.why": "    why: {reason}",
    "fallback": "(the {segmenter} segmenter stepped in: {reason})",
    "dream": "Dream mode: this plan is shown, never run.",
    "run": "Run {run}: {outcome}.",
    "run.in_progress": "in progress",
    "run.succeeded": "succeeded",
    "run.failed": "failed",
    "run.cancelled": "cancelled",
    "run.manual_outstanding": "manual work outstanding: whoever does a step left to a person "
                              "confirms it (chat: done RUN STEP; CLI: altlas run confirm)",
    "waiting": "waits for {remaining} more approval(s) (approval {approval})",
    "asks_when": "asks for approval only if {condition} holds, once the steps it compares ran",
    "manual": "{risk}: altlas never runs it; to do by hand: {action}",
    "manual.confirmed": "done by hand, confirmed by {person}",
    "redacted": "({n} value(s) redacted)",
    "voted": "Vote counted: {votes} of {required}.",
    "granted": "Approved by {approvers}. Running it now.",
    "granted.erasure": "Approved by {approvers}. The person is being forgotten now.",
    "granted.training": "Approved by {approvers}. The training starts now.",
    "granted.registry": "Approved by {approvers}. The model changes now.",
    "granted.runbook": "Approved by {approvers}. The runbook's new version is published now.",
    "denied": "Denied. {step} and every step that needs it are cancelled.",
    "reason.not_eligible": "you are not an approver for {risk} in {environment}.",
    "reason.requester": "you asked for this change, so you cannot approve or deny it.",
    "reason.author": "you wrote this plan or chose what it does, so you cannot approve or deny "
                     "it.",
    "reason.duplicate": "you have already approved this; one vote per person.",
    "reason.expired": "this approval expired at {when}; ask for a new run.",
    "reason.decided": "this approval is already {status}.",
    "reason.not_found": "no approval, task or run has the id {id}.",
    "reason.not_found.training": "no training or adapter is {id}: `models` lists what plans.",
    "reason.no_incident": "no incident has the id {id}; `incidents all` lists them.",
    "reason.ambiguous": "{id} matches several: {matches}. Give more of the id.",
    "reason.no_reason": "a denial needs a reason.",
    "reason.other": "{message}",
    "card.title": "Approval needed: {risk} in {environment}",
    "card.request": "Request: “{request}” by {requester}",
    "card.step": "Step {step}: {kind} `{action}`{target}",
    "card.why": "Why it is gated: {reason}",
    "card.votes": "Approved by: {votes} — {remaining} more needed from {approvers}",
    "card.no_votes": "Approved by: nobody yet — {remaining} needed from {approvers}",
    "card.time_left": "Time left: {minutes} min (expires {when})",
    "card.oncall": "On call: {people}",
    "card.granted": "✅ Granted by {votes}",
    "card.denied": "⛔ {reason}",
    "card.expired": "⌛ Expired before enough approvals",
    "card.cancelled": "✖ {reason}",
    "card.run_finished": "Run {run}: {outcome}",
    "button.approve": "Approve",
    "button.deny": "Deny",
    "button.approve_step": "Approve {step}",
    "button.deny_step": "Deny {step}",
    "modal.title": "Deny this change",
    "modal.label": "Why? (the requester sees this)",
    "modal.submit": "Deny",
    "runs.none": "No runs yet.",
    "runs.line": "{run} · {status}{outcome} · “{request}”",
    "approvals.none": "Nothing waits for your approval.",
    "approvals.line": "{id} · {risk} in {environment} · step {step} · {votes}/{required} · "
                      "{minutes} min left · “{request}”",
    "status.task": "Task {id}: {status} — “{request}” by {requester}",
    "status.approval": "Approval {id}: {status}, {votes}/{required} votes",
    "feature.atlas": "The .atlas knowledge base",
    "atlas.empty": "The .atlas is empty: it learns from runs as they complete.",
    "atlas.none": "Nothing in the .atlas matches “{query}”; try fewer words, or an intent "
                  "such as restart or disk.",
    "atlas.line": "{pattern} · {runs} run(s) · {rate}% ok ({low}–{high}%) · "
                  "mean {mean} · p95 {p95}",
    "atlas.asked": "  asked: {requests}",
    "atlas.failed": "  last failure: {error}",
    "atlas.imported": "  imported: {runs} runs from {source}",
    "atlas.more": "… and {count} more; narrow the query.",
    "atlas.low": "⚠️ This kind of plan ({pattern}) succeeded {successes} of {runs} times; "
                 "last failure: {failure}",
    "plan.similar": "Similar past runs: {runs}",
    "models.none": "No model is registered: `altlas models add PATH` registers a GGUF file; "
                   "the packaged ones are registered when `altlas serve` or a worker starts.",
    "models.head": "Models (▶ plans now):",
    "models.line": "{mark} {name} · {architecture} {parameters} · {quantization} · context "
                   "{context} · {source} · sha256 {sha}…",
    "models.default": "None activated yet: the local segmenter plans with ALTLAS_LOCAL_MODEL.",
    "models.pending": "Waiting: {who} asked that {model} plan (approval {approval}).",
    "incidents.none": "No incident is open. `{every}` lists the resolved ones too.",
    "incidents.none_at_all": "No incident is on record: they open as Alertmanager's alerts come.",
    "incidents.line": "{mark} {id} {title} · {status} · {firing} of {alerts} alert(s) firing · "
                      "since {opened}",
    "incidents.cause": "   likely cause: {component} ({evidence})",
    "incidents.merged": "   merged into {into}",
    "incidents.summary": "   found: {summary}",
    "incidents.remedy.annotation": "   proposed (the alert's altlas annotation): “{request}” · "
                                   "task {task}; its plan and approvals are in the thread",
    "incidents.remedy.atlas": "   proposed (what fixed it before, {pattern}): “{request}” · "
                              "task {task}; its plan and approvals are in the thread",
    "incidents.event": "   {time} {event} {fingerprint}",
    "usage.incidents": "Usage: incidents [all | <incident id>]",
    "usage.models": "Usage: models · models activate <model name> [why] · models training <id> "
                    "· models promote <adapter> [why] · models rollback [why]",
    "usage.arena": "Usage: arena <request> · arena <task id> (its plan against an alternative)",
    "usage.run": "Usage: run <runbook> [NAME=VALUE …] (e.g. run disk-check host=web-1)",
    "usage.save": "Usage: save run <run id> as runbook <name>",
    "runbook.published": "Published runbook {name} v{version}: `run {name} NAME=VALUE …` runs it.",
    "runbook.pending": ("Runbook {name} has gated steps: it is published once someone else "
                        "approves {approval}."),
    "arena.started": "Arena {duel}: two planners are planning “{request}”; the plans come as "
                     "A and B.",
    "arena.head": "🥊 Arena: “{request}” — which plan is better?",
    "arena.counted": "Counted: {verdict}. The match is in the leaderboards.",
    "training.head": "Training {id}: a LoRA adapter on {base} from {examples} example(s) · "
                     "{status}",
    "training.progress": "   step {step} of {steps} · loss {loss} · {rate} tokens/s · about "
                         "{eta} s left",
    "training.adapter": "   adapter {name}: {steps} steps in {seconds} s, loss {first} → {last}, "
                        "sha256 {sha}…",
    "training.reason": "   stopped: {reason}",
    "training.evaluated": "   evaluated on {sampled} of {of} request(s) of {file}: exact "
                          "{base_exact} → {exact}, asked {base_asked} → {asked}, wrong "
                          "{base_wrong} → {wrong}, {base_s} → {s} s a request",
    "training.promotable": "   it beats its base: `models promote {name}` asks to put it in "
                           "charge",
    "training.not_promotable": "   not promotable: {why}",
    "models.adapter": "   with the adapter {name} (promoted)",
    "models.rollback": "Rolling back (`models rollback`) would put {to} in charge again.",
    "models.promote_asked": "Asked that {adapter} plan: approval {approval} decides (`approve "
                            "{approval}`, by an approver who did not ask for it or its "
                            "training).",
    "models.rollback_asked": "Asked to roll back to {to}: approval {approval} decides "
                             "(`approve {approval}`, by an approver other than you).",
    "arena.a": "A:",
    "arena.b": "B:",
    "arena.no_plan": "   (no plan: {problem})",
    "arena.ask": "Which planner made which is shown once you vote.",
    "arena.decided": "A was {a}, B was {b}: {voter} chose {verdict}.",
    "arena.verdict.a": "A",
    "arena.verdict.b": "B",
    "arena.verdict.tie": "a tie",
    "arena.verdict.both_bad": "neither (both bad)",
    "button.arena.a": "A is better",
    "button.arena.b": "B is better",
    "button.arena.tie": "Tie",
    "button.arena.both_bad": "Both bad",
    "models.asked": "Asked that {model} plan: approval {approval} decides (`approve "
                    "{approval}`, by an approver other than you).",
    "board.runbooks": "Runbooks, surest first:",
    "board.runbook": "{rank}. {pattern} · {successes}/{runs} ok ({low}–{high}%) · resolved in "
                     "{p50} (p50)",
    "board.planners": "Planners, by their plans' runs:",
    "board.planner": "{rank}. {planner} · {successes}/{runs} ok ({low}–{high}%) · {plans} "
                     "plan(s), {refused}% refused",
    "board.ratings": "{method} ratings from {matches} match(es):",
    "board.rating": "{rank}. {planner} · {rating} ({low}–{high}) · {matches} match(es)",
    "board.empty": "Nothing to rank yet: runbooks and planners rank as runs complete.",
    "board.no_matches": "No match was played yet: the arena records them.",
    "board.history": "{pattern}: {successes} of {runs} runs succeeded; by period: {periods}",
    "board.no_runbook": "No runbook matches “{query}”; try `atlas` to see what ran.",
    "audit.ok": "✅ {source}: {events} events in {aggregates} aggregates verified, "
                "{checkpoints} checkpoint(s) match.",
    "audit.bad": "❌ {source}: {count} problem(s), first: {first}",
    "question.host.unknown": "I don't know a host called {part}. Which host did you mean?",
    "question.host": "Which host should “{request}” run on?",
    "question.clause": "I don't understand “{part}”. Say it another way, or answer skip to "
                       "leave it out.",
    "question.unclear": "I could not make a plan that does exactly “{request}”. Say it another "
                        "way, one action per sentence.",
    "question.reading": "I can read “{request}” two ways. Which did you mean? Or say it "
                        "another way, one action per sentence.",
    "question.choices": "Choose one: {choices}",
    "question.how.cli": "Answer with: altlas task answer {id} CHOICE --as {requester}",
    "question.how.chat": "Answer with a button, or: answer {id} CHOICE",
    "question.how.chat.text": "Answer with: answer {id} <your words>",
    "question.expires": "(open until {when})",
    "question.answered": "Asked about “{request}”: {who} answered {answer}.",
    "question.expired": "Asked about “{request}”: no answer in time. Ask again, naming the host.",
    "usage.answer": "Usage: answer <task id> <choice or words>",
    "answered": "Thanks: planning “{request}” again with your answer.",
    "reason.not_asked": "that task is not waiting for an answer.",
    "reason.question_expired": "that question expired; ask again.",
    "reason.not_requester": "only {owner}, who asked for it, may answer.",
    "reason.not_oncall": "{owner} asked for it: only the on-call people of {environment} "
                         "({people}) may answer for it.",
    "working": "On it: planning “{request}”…",
    "approval.head": "approval {id}  {status}  ({left})",
    "approval.left": "{minutes} min left",
    "approval.step": "  step      {step} of run {run}: {risk} in {environment}",
    "approval.erasure": ("  forgets   the person {person}: their key is destroyed, so their "
                         "name and what they wrote read as erased everywhere"),
    "approval.training": "  trains    a model: training {id}",
    "approval.registry": "  changes   the model that plans",
    "approval.runbook": "  publishes a new version of runbook {id}",
    "approval.why": "  why       {reason}",
    "approval.asked": "  asked by  {requester}; approvers: {approvers}",
    "approval.open": "  approved  {votes}; {remaining} more needed",
    "approval.closed": "  approved  {votes}",
    "approval.nobody": "nobody yet",
    "approvals.row": "{id}  {risk} in {environment}, {what}: {votes}; {remaining} more "
                     "needed, {minutes} min left · “{request}”",
    "approvals.what.step": "step {step}",
    "approvals.what.forget": "forgetting a person",
    "approvals.what.train": "a LoRA training",
    "approvals.what.activate": "a model to plan",
    "approvals.what.promote": "an adapter to plan",
    "approvals.what.rollback": "rolling back the model that plans",
    "approvals.empty": "no approvals are waiting",
    "list.none": "nothing matches",
    "list.more": "more: --cursor '{cursor}'",
    "cli.recorded": "task {id} recorded; planning it…",
    "cli.no_worker": ("task {id} recorded, but no worker is running, so nothing plans it yet: "
                      "start one with `altlas worker` (or `altlas serve`)."),
    "cli.no_worker.run": ("task {id} recorded, but no worker is running, so nothing runs it "
                          "yet: start one with `altlas worker` (or `altlas serve`), or submit "
                          "it with --run."),
    "cli.waiting": "{step} waits for {remaining} more approval(s): altlas approve {id} --as "
                   "PERSON",
    "reason.not_owner": "only {owner}, who asked for it, may do that.",
    "interrupted": ("⚠️ Step {step} was interrupted and its outcome is unknown: {reason}. "
                    "The run stopped there. Check by hand what it did. On call: {people}"),
    "audit.then": "As of {until} ({events} events):",
    "audit.then.approval": "• approval {id} open: {risk} in {environment}, step {step}, "
                           "approved by {votes} of {required} needed · “{request}”",
    "audit.then.run": "• run {run} running · “{request}” by {requester}",
    "audit.then.quiet": "Nothing was waiting or running then.",
    "voice.heard": "I heard: “{transcript}”",
    "voice.doubted": ("I heard: “{transcript}”, but I am not sure of it. Is that what you "
                      "asked? Nothing is planned until you say so."),
    "voice.yes": "Yes, that's it",
    "voice.no": "No",
    "voice.rejected": "Dropped: nothing is planned from “{transcript}”. Say it again, or type "
                      "it.",
    "voice.not_speaker": "only {speaker}, who said it, may answer this; send a clip of your own.",
    "voice.settled": "this hearing was already answered ({status}); nothing more to do.",
    "voice.disabled": ("Voice requests are not enabled here (the speech extra is not "
                       "installed): type the request instead."),
    "voice.warming": ("The speech model is still loading after a restart: send the clip again "
                      "in a few seconds, or type the request."),
    "voice.refused.not_audio": ("I could not read that file as audio: send a voice clip "
                                "(ogg, m4a, mp3, wav or webm)."),
    "voice.refused.too_large": ("The clip is over the limit of {limit}: send a shorter one, or "
                                "type the request."),
    "voice.refused.too_long": "The clip is too long ({detail}): send a shorter one.",
    "voice.refused.no_speech": ("I could not hear a request in the clip: say it again closer "
                                "to the microphone, or type it."),
    "voice.refused.unknown_language": ("I could not tell which language the clip is in: say it "
                                       "again in English or Turkish, or type it."),
    "voice.refused.download_failed": ("I could not download the clip ({detail}): send it "
                                      "again in a minute, or type the request."),
}

TR: dict[str, str] = {
    "help": (
        "Komutlar:\n"
        "• do <istek> [--mode normal|explore|dream|chaos] [--persona AD] [--env ORTAM] — "
        "isteği planla, onaylara bağla, çalışabilecekleri çalıştır\n"
        "• status <id> — bir görev, çalışma ya da onay\n"
        "• runs — son çalışmalar\n"
        "• approvals — onayınızı bekleyenler\n"
        "• approve <id> · deny <id> <gerekçe>\n"
        "• answer <görev id> <seçim ya da sözler> — altlas'ın sorusunu yanıtlayın\n"
        "• done <çalışma id> <adım> [not] — altlas'ın size bıraktığı adımı yaptınız\n"
        "• atlas <sorgu> · leaderboard [elo|bt|<runbook kelimeleri>]\n"
        "• incidents [all|<id>] — uyarılardan olaylar ve olası nedenleri\n"
        "• models · models activate <ad> [neden] — planlayan modeller; değiştirmek (onaylı)\n"
        "• arena <istek|görev id> — iki planlayıcının planı A ve B: hangisi iyi, oy verin\n"
        "• run <runbook> AD=DEĞER … · save run <çalışma id> as runbook <ad>\n"
        "• audit verify · audit replay --until ZAMAN\n"
        "• help"),
    "usage.do": "Kullanım: do <istek> [--mode M] [--persona P] [--env O] [--chaos-level N]",
    "usage.status": "Kullanım: status <görev, çalışma ya da onay id>",
    "usage.approve": "Kullanım: approve <onay id>",
    "usage.deny": "Kullanım: deny <onay id> <gerekçe>",
    "usage.done": "Kullanım: done <çalışma id> <adım id> [ne yaptığınız]",
    "usage.atlas": "Kullanım: atlas <sorgu>",
    "usage.audit": "Kullanım: audit verify · audit replay --until 2026-11-23T14:00:00Z",
    "unknown_command": "“{word}” komutunu bilmiyorum. Deneyin: help",
    "unknown_person": ("{identity} kimliğini tanımıyorum. Bir yöneticiden politikadaki bir "
                       "kişiye eklemesini isteyin (people → identities)."),
    "policy_unavailable": ("Politika dosyası kullanılamıyor; bir yönetici düzeltene kadar "
                           "altlas sohbetten komut almaz: {reason}"),
    "needs_role": ("{person} şunu yapamaz: {doing}. Bunun için {role} rolü gerekir; bir "
                   "yönetici politikada verir (people → roles)."),
    "rejected": "“{request}” için plan yapamadım: {reason}",
    "refused": "Reddedildi: {reason}",
    "plan.technical_expert": "“{request}” planı — {n} adım, {segmenter} tarafından:",
    "plan.researcher": ("“{request}” planı — {n} adım, {segmenter} tarafından; her adım "
                        "riskini belirleyen kuralla:"),
    "plan.project_manager": "“{request}” için olacaklar ({n} adım):",
    "plan.none": "“{request}” için henüz plan yok: bir işçi çalışınca planlar.",
    "plan.none.asked": ("“{request}” için henüz plan yok ({status}): altlas önce {requester} "
                        "kişisine sordu."),
    "plan.creative_writer": "“{request}” senaryosu, {n} perde:",
    "step.why": "    neden: {reason}",
    "fallback": "({segmenter} segmentleyicisi devreye girdi: {reason})",
    "dream": "Rüya modu: bu plan gösterilir, asla çalıştırılmaz.",
    "run": "Çalışma {run}: {outcome}.",
    "run.in_progress": "sürüyor",
    "run.succeeded": "başarılı",
    "run.failed": "başarısız",
    "run.cancelled": "iptal edildi",
    "run.manual_outstanding": "elle yapılacak iş var: kişiye bırakılan adımı yapan onaylar "
                              "(sohbet: done ÇALIŞMA ADIM; CLI: altlas run confirm)",
    "waiting": "{remaining} onay daha bekliyor (onay {approval})",
    "asks_when": "yalnızca {condition} doğru çıkarsa, karşılaştırdığı adımlar çalıştıktan "
                 "sonra onay ister",
    "manual": "{risk}: altlas bunu asla çalıştırmaz; elle yapılacak: {action}",
    "manual.confirmed": "elle yapıldı, onaylayan {person}",
    "redacted": "({n} değer gizlendi)",
    "voted": "Oy sayıldı: {votes} / {required}.",
    "granted": "{approvers} onayladı. Şimdi çalıştırılıyor.",
    "granted.erasure": "{approvers} onayladı. Kişi şimdi unutuluyor.",
    "granted.training": "{approvers} onayladı. Eğitim şimdi başlıyor.",
    "granted.registry": "{approvers} onayladı. Model şimdi değişiyor.",
    "granted.runbook": "{approvers} onayladı. Runbook'un yeni sürümü şimdi yayımlanıyor.",
    "denied": "Reddedildi. {step} ve ona bağlı her adım iptal edildi.",
    "reason.not_eligible": "{environment} ortamında {risk} için onaylayıcı değilsiniz.",
    "reason.requester": "bu değişikliği siz istediniz; onaylayamaz ya da reddedemezsiniz.",
    "reason.author": "bu planı siz yazdınız ya da ne yapacağını siz seçtiniz; onaylayamaz ya "
                     "da reddedemezsiniz.",
    "reason.duplicate": "bunu zaten onayladınız; kişi başına bir oy.",
    "reason.expired": "bu onayın süresi {when} tarihinde doldu; yeni bir çalışma isteyin.",
    "reason.decided": "bu onay zaten {status}.",
    "reason.not_found": "{id} kimliğiyle bir onay, görev ya da çalışma yok.",
    "reason.not_found.training": "{id} adında bir eğitim ya da adaptör yok: `models` neyin "
                                 "planladığını listeler.",
    "reason.no_incident": "{id} kimliğiyle bir olay yok; `incidents all` hepsini listeler.",
    "reason.ambiguous": "{id} birden fazlasıyla eşleşiyor: {matches}. Daha uzun yazın.",
    "reason.no_reason": "reddetmek için gerekçe gerekir.",
    "reason.other": "{message}",
    "card.title": "Onay gerekiyor: {environment} ortamında {risk}",
    "card.request": "İstek: “{request}”, isteyen {requester}",
    "card.step": "Adım {step}: {kind} `{action}`{target}",
    "card.why": "Neden onay gerekiyor: {reason}",
    "card.votes": "Onaylayanlar: {votes} — {approvers} arasından {remaining} onay daha gerekli",
    "card.no_votes": "Onaylayanlar: henüz kimse — {approvers} arasından {remaining} onay gerekli",
    "card.time_left": "Kalan süre: {minutes} dk (bitiş {when})",
    "card.oncall": "Nöbetçi: {people}",
    "card.granted": "✅ {votes} onayladı",
    "card.denied": "⛔ {reason}",
    "card.expired": "⌛ Yeterli onay gelmeden süresi doldu",
    "card.cancelled": "✖ {reason}",
    "card.run_finished": "Çalışma {run}: {outcome}",
    "button.approve": "Onayla",
    "button.deny": "Reddet",
    "button.approve_step": "{step} onayla",
    "button.deny_step": "{step} reddet",
    "modal.title": "Bu değişikliği reddet",
    "modal.label": "Neden? (isteyen kişi bunu görür)",
    "modal.submit": "Reddet",
    "runs.none": "Henüz çalışma yok.",
    "runs.line": "{run} · {status}{outcome} · “{request}”",
    "approvals.none": "Onayınızı bekleyen bir şey yok.",
    "approvals.line": "{id} · {environment} ortamında {risk} · adım {step} · "
                      "{votes}/{required} · {minutes} dk kaldı · “{request}”",
    "status.task": "Görev {id}: {status} — “{request}”, isteyen {requester}",
    "status.approval": "Onay {id}: {status}, {votes}/{required} oy",
    "feature.atlas": ".atlas bilgi tabanı",
    "plan.similar": "Benzer geçmiş çalıştırmalar: {runs}",
    "board.runbooks": "Runbook'lar, en güvenilir önce:",
    "models.none": "Kayıtlı model yok: `altlas models add PATH` bir GGUF dosyasını kaydeder; "
                   "paketli olanlar `altlas serve` ya da bir worker başlarken kaydedilir.",
    "models.head": "Modeller (▶ şu an planlayan):",
    "models.line": "{mark} {name} · {architecture} {parameters} · {quantization} · bağlam "
                   "{context} · {source} · sha256 {sha}…",
    "models.default": "Henüz etkinleştirilen yok: yerel planlayıcı ALTLAS_LOCAL_MODEL ile "
                      "planlıyor.",
    "models.pending": "Bekliyor: {who}, {model} modelinin planlamasını istedi (onay {approval}).",
    "incidents.none": "Açık olay yok. `{every}` çözülenleri de listeler.",
    "incidents.none_at_all": "Kayıtlı olay yok: olaylar Alertmanager uyarıları geldikçe açılır.",
    "incidents.line": "{mark} {id} {title} · {status} · {alerts} uyarının {firing} tanesi "
                      "sürüyor · {opened} itibarıyla",
    "incidents.cause": "   olası neden: {component} ({evidence})",
    "incidents.merged": "   {into} olayına birleştirildi",
    "incidents.summary": "   bulunan: {summary}",
    "incidents.remedy.annotation": "   önerilen (uyarının altlas notu): “{request}” · görev "
                                   "{task}; planı ve onayları bu mesajın akışında",
    "incidents.remedy.atlas": "   önerilen (daha önce düzelten, {pattern}): “{request}” · "
                              "görev {task}; planı ve onayları bu mesajın akışında",
    "incidents.event": "   {time} {event} {fingerprint}",
    "usage.incidents": "Kullanım: incidents [all | <olay id>]",
    "usage.models": "Kullanım: models · models activate <model adı> [neden] · models training "
                    "<id> · models promote <adaptör> [neden] · models rollback [neden]",
    "usage.arena": "Kullanım: arena <istek> · arena <görev id> (planı bir alternatife karşı)",
    "usage.run": "Kullanım: run <runbook> [AD=DEĞER …] (ör. run disk-check host=web-1)",
    "usage.save": "Kullanım: save run <çalışma id> as runbook <ad>",
    "runbook.published": ("Runbook {name} v{version} yayımlandı: `run {name} AD=DEĞER …` "
                          "çalıştırır."),
    "runbook.pending": ("Runbook {name} onaylı adımlar içeriyor: başka biri {approval} onayını "
                        "verince yayımlanır."),
    "arena.started": "Arena {duel}: iki planlayıcı “{request}” isteğini planlıyor; planlar A "
                     "ve B olarak gelecek.",
    "arena.head": "🥊 Arena: “{request}” — hangi plan daha iyi?",
    "arena.counted": "Sayıldı: {verdict}. Maç sıralamalarda.",
    "training.head": "Eğitim {id}: {base} üzerinde {examples} örnekten bir LoRA adaptörü · "
                     "{status}",
    "training.progress": "   adım {step} / {steps} · kayıp {loss} · {rate} token/sn · yaklaşık "
                         "{eta} sn kaldı",
    "training.adapter": "   adaptör {name}: {steps} adım, {seconds} sn, kayıp {first} → {last}, "
                        "sha256 {sha}…",
    "training.reason": "   durdu: {reason}",
    "training.evaluated": "   {file} dosyasının {of} isteğinden {sampled} tanesinde ölçüldü: "
                          "tam {base_exact} → {exact}, geri sorulan {base_asked} → {asked}, "
                          "yanlış {base_wrong} → {wrong}, istek başına {base_s} → {s} sn",
    "training.promotable": "   tabanını geçiyor: `models promote {name}` onu görevlendirmeyi "
                           "ister",
    "training.not_promotable": "   terfi edilemez: {why}",
    "models.adapter": "   {name} adaptörüyle (terfi edildi)",
    "models.rollback": "Geri almak (`models rollback`) {to} modelini yeniden görevlendirir.",
    "models.promote_asked": "{adapter} adaptörünün planlaması istendi: {approval} onayı karar "
                            "verir (`approve {approval}`, onu ya da eğitimini istemeyen bir "
                            "onaylayıcı).",
    "models.rollback_asked": "{to} modeline geri dönülmesi istendi: {approval} onayı karar "
                             "verir (`approve {approval}`, sizden başka bir onaylayıcı).",
    "arena.a": "A:",
    "arena.b": "B:",
    "arena.no_plan": "   (plan yok: {problem})",
    "arena.ask": "Hangisini kimin yaptığı oy verince gösterilir.",
    "arena.decided": "A: {a}, B: {b}. {voter} seçti: {verdict}.",
    "arena.verdict.a": "A",
    "arena.verdict.b": "B",
    "arena.verdict.tie": "berabere",
    "arena.verdict.both_bad": "hiçbiri (ikisi de kötü)",
    "button.arena.a": "A daha iyi",
    "button.arena.b": "B daha iyi",
    "button.arena.tie": "Berabere",
    "button.arena.both_bad": "İkisi de kötü",
    "models.asked": "{model} modelinin planlaması istendi: {approval} onayı karar verir "
                    "(`approve {approval}`, sizden başka bir onaylayıcı).",
    "board.runbook": "{rank}. {pattern} · {successes}/{runs} başarılı (%{low}–%{high}) · "
                     "çözüm süresi {p50} (p50)",
    "board.planners": "Planlayıcılar, planlarının çalıştırmalarına göre:",
    "board.planner": "{rank}. {planner} · {successes}/{runs} başarılı (%{low}–%{high}) · "
                     "{plans} plan, %{refused} reddedildi",
    "board.ratings": "{matches} maçtan {method} puanları:",
    "board.rating": "{rank}. {planner} · {rating} ({low}–{high}) · {matches} maç",
    "board.empty": "Henüz sıralanacak bir şey yok: çalıştırmalar tamamlandıkça sıralanır.",
    "board.no_matches": "Henüz maç oynanmadı: arena maçları kaydeder.",
    "board.history": "{pattern}: {runs} çalıştırmanın {successes} tanesi başarılı; "
                     "dönemlere göre: {periods}",
    "board.no_runbook": "“{query}” ile eşleşen runbook yok; neyin çalıştığını görmek için "
                        "`atlas` deneyin.",
    "atlas.empty": ".atlas boş: çalıştırmalar tamamlandıkça öğrenir.",
    "atlas.none": ".atlas'ta “{query}” ile eşleşen bir şey yok; daha az kelime ya da restart, "
                  "disk gibi bir amaç deneyin.",
    "atlas.line": "{pattern} · {runs} çalıştırma · %{rate} başarılı (%{low}–%{high}) · "
                  "ortalama {mean} · p95 {p95}",
    "atlas.asked": "  istekler: {requests}",
    "atlas.failed": "  son hata: {error}",
    "atlas.imported": "  içe aktarılan: {source} kaynağından {runs} çalıştırma",
    "atlas.more": "… ve {count} tane daha; sorguyu daraltın.",
    "atlas.low": "⚠️ Bu tür plan ({pattern}) {runs} denemede {successes} kez başarılı oldu; "
                 "son hata: {failure}",
    "audit.ok": "✅ {source}: {aggregates} kümede {events} olay doğrulandı, "
                "{checkpoints} kontrol noktası tutuyor.",
    "audit.bad": "❌ {source}: {count} sorun, ilki: {first}",
    "question.host.unknown": "{part} adında bir sunucu bilmiyorum. Hangisini kastettiniz?",
    "question.host": "“{request}” hangi sunucuda çalışsın?",
    "question.clause": "“{part}” kısmını anlamadım. Başka türlü söyleyin ya da çıkarmak için "
                       "atla yazın.",
    "question.unclear": "Tam olarak “{request}” yapan bir plan çıkaramadım. Başka türlü "
                        "söyleyin, her cümlede bir iş.",
    "question.reading": "“{request}” isteğini iki türlü okuyabiliyorum. Hangisini "
                        "kastettiniz? Ya da başka türlü söyleyin, her cümlede bir iş.",
    "question.choices": "Birini seçin: {choices}",
    "question.how.cli": "Yanıtlamak için: altlas task answer {id} SEÇİM --as {requester}",
    "question.how.chat": "Bir düğmeyle ya da şöyle yanıtlayın: answer {id} SEÇİM",
    "question.how.chat.text": "Şöyle yanıtlayın: answer {id} <sözleriniz>",
    "question.expires": "({when} saatine kadar açık)",
    "question.answered": "“{request}” hakkında soruldu: {who} yanıtladı: {answer}.",
    "question.expired": "“{request}” hakkında soruldu: zamanında yanıt gelmedi. Sunucuyu "
                        "belirterek yeniden isteyin.",
    "usage.answer": "Kullanım: answer <görev kimliği> <seçim ya da sözler>",
    "answered": "Teşekkürler: “{request}” yanıtınızla yeniden planlanıyor.",
    "reason.not_asked": "bu görev bir yanıt beklemiyor.",
    "reason.question_expired": "bu sorunun süresi doldu; yeniden isteyin.",
    "reason.not_requester": "yalnızca isteyen {owner} yanıtlayabilir.",
    "reason.not_oncall": "bunu {owner} istedi: yalnızca {environment} nöbetçileri ({people}) "
                         "yanıtlayabilir.",
    "working": "Üzerindeyim: “{request}” planlanıyor…",
    "approval.head": "onay {id}  {status}  ({left})",
    "approval.left": "{minutes} dk kaldı",
    "approval.step": "  adım      {step}, çalışma {run}: {environment} ortamında {risk}",
    "approval.erasure": ("  unutur    {person} kişisini: anahtarı yok edilir, adı ve "
                         "yazdıkları her yerde silinmiş görünür"),
    "approval.training": "  eğitir    bir model: eğitim {id}",
    "approval.registry": "  değiştirir planlayan modeli",
    "approval.runbook": "  yayımlar  runbook {id} için yeni bir sürüm",
    "approval.why": "  neden     {reason}",
    "approval.asked": "  isteyen   {requester}; onaylayıcılar: {approvers}",
    "approval.open": "  onaylayan {votes}; {remaining} onay daha gerekli",
    "approval.closed": "  onaylayan {votes}",
    "approval.nobody": "henüz kimse",
    "approvals.row": "{id}  {environment} ortamında {risk}, {what}: {votes}; {remaining} "
                     "onay daha gerekli, {minutes} dk kaldı · “{request}”",
    "approvals.what.step": "adım {step}",
    "approvals.what.forget": "bir kişiyi unutmak",
    "approvals.what.train": "bir LoRA eğitimi",
    "approvals.what.activate": "planlayacak bir model",
    "approvals.what.promote": "planlayacak bir adaptör",
    "approvals.what.rollback": "planlayan modeli geri almak",
    "approvals.empty": "bekleyen onay yok",
    "list.none": "eşleşen bir şey yok",
    "list.more": "devamı: --cursor '{cursor}'",
    "cli.recorded": "görev {id} kaydedildi; planlanıyor…",
    "cli.no_worker": ("görev {id} kaydedildi, ama çalışan işçi yok, bu yüzden henüz kimse "
                      "planlamıyor: `altlas worker` (ya da `altlas serve`) ile birini başlatın."),
    "cli.no_worker.run": ("görev {id} kaydedildi, ama çalışan işçi yok, bu yüzden henüz kimse "
                          "çalıştırmıyor: `altlas worker` (ya da `altlas serve`) ile birini "
                          "başlatın ya da --run ile gönderin."),
    "cli.waiting": "{step} {remaining} onay daha bekliyor: altlas approve {id} --as KİŞİ",
    "reason.not_owner": "bunu yalnızca isteyen {owner} yapabilir.",
    "interrupted": ("⚠️ {step} adımı yarıda kesildi ve sonucu bilinmiyor: {reason}. Çalışma "
                    "orada durdu. Ne yaptığını elle kontrol edin. Nöbetçi: {people}"),
    "audit.then": "{until} itibarıyla ({events} olay):",
    "audit.then.approval": "• onay {id} açık: {environment} ortamında {risk}, adım {step}, "
                           "onaylayanlar {votes}, gereken {required} · “{request}”",
    "audit.then.run": "• çalışma {run} sürüyor · “{request}”, isteyen {requester}",
    "audit.then.quiet": "O sırada bekleyen ya da süren bir şey yoktu.",
    "voice.heard": "Duyduğum: “{transcript}”",
    "voice.doubted": ("Duyduğum: “{transcript}”, ama emin değilim. İstediğiniz bu mu? Siz "
                      "onaylayana kadar hiçbir şey planlanmaz."),
    "voice.yes": "Evet, bu",
    "voice.no": "Hayır",
    "voice.rejected": "Bırakıldı: “{transcript}” için hiçbir şey planlanmadı. Yeniden söyleyin "
                      "ya da yazın.",
    "voice.not_speaker": "bunu yalnızca söyleyen {speaker} yanıtlayabilir; kendi kaydınızı "
                         "gönderin.",
    "voice.settled": "bu duyum zaten yanıtlandı ({status}); yapılacak bir şey yok.",
    "voice.disabled": ("Sesli istekler burada açık değil (speech eki kurulu değil): isteği "
                       "yazın."),
    "voice.warming": ("Konuşma modeli yeniden başlatmanın ardından hâlâ yükleniyor: kaydı "
                      "birkaç saniye sonra yeniden gönderin ya da isteği yazın."),
    "voice.refused.not_audio": ("Bu dosyayı ses olarak okuyamadım: bir ses kaydı gönderin "
                                "(ogg, m4a, mp3, wav ya da webm)."),
    "voice.refused.too_large": ("Kayıt {limit} sınırını aşıyor: daha kısa bir kayıt gönderin "
                                "ya da isteği yazın."),
    "voice.refused.too_long": "Kayıt çok uzun ({detail}): daha kısa bir kayıt gönderin.",
    "voice.refused.no_speech": ("Kayıtta bir istek duyamadım: mikrofona daha yakın yeniden "
                                "söyleyin ya da yazın."),
    "voice.refused.unknown_language": ("Kaydın hangi dilde olduğunu anlayamadım: Türkçe ya da "
                                       "İngilizce yeniden söyleyin ya da yazın."),
    "voice.refused.download_failed": ("Kaydı indiremedim ({detail}): bir dakika sonra yeniden "
                                      "gönderin ya da isteği yazın."),
}

CATALOGS: dict[str, dict[str, str]] = {"en": EN, "tr": TR}


def t(locale: str, key: str, **params: Any) -> str:
    """The message ``key`` in ``locale`` (English if the locale lacks it), filled in."""
    catalog = CATALOGS.get(locale, EN)
    return catalog.get(key, EN[key]).format(**params)


def terminal_locale(lang: str | None) -> str:
    """The language of a terminal's LANG (``tr_TR.UTF-8``) when we speak it, else English."""
    language = (lang or "en").split("_")[0].split(".")[0].lower()
    return language if language in CATALOGS else "en"
