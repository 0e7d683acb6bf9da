#!/usr/bin/env bash
# Run the tests that drive aimlcat's C code (aimlcat/_verdict.c) with AddressSanitizer and
# UndefinedBehaviorSanitizer, on a copy of this checkout (the checkout itself is untouched).
#   bash tools/asan_check.sh            # the C-heavy test files
#   bash tools/asan_check.sh tests/...  # others
# Needs gcc with libasan/libubsan. Leak checking is off: CPython's own allocations
# would drown the report. PYTHONMALLOC=malloc lets the sanitizer see Python objects too.
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
git -C "$src" ls-files -z | (cd "$src" && xargs -0 cp --parents -t "$work")
suffix="$(python -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')"
include="$(python -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"
gcc -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fPIC -std=c99 -I"$include" \
    "$work/aimlcat/_verdict.c" -shared -o "$work/aimlcat/_verdict$suffix"
preload="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
cd "$work"
if [ "$#" -eq 0 ]; then
  set -- tests/test_compact.py tests/test_positions.py tests/test_tokens.py tests/test_engines.py \
         tests/test_validator.py -k "not without_the_compact"
fi
PYTHONMALLOC=malloc ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  LD_PRELOAD="$preload" PYTHONPATH="$work" python -m pytest -q -p no:cacheprovider "$@"
