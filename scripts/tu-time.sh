#!/usr/bin/env bash
# Compiler/linker launcher that records the CPU time (user+sys) of one compile or link: appends
# "user<TAB>sys<TAB>wall<TAB>output" to $LATCHKEY_TU_LOG. Used by scripts/build-times.sh; not by normal builds.
out=""
prev=""
for a in "$@"; do
    [ "$prev" = "-o" ] && out=$a
    prev=$a
done
t=$(mktemp)
/usr/bin/time -f '%U	%S	%e' -o "$t" "$@"
rc=$?
if [ -n "${LATCHKEY_TU_LOG:-}" ]; then
    # the PWD-relative object path, made absolute so the report can group by target
    case $out in /*) ;; *) out=$PWD/$out ;; esac
    printf '%s\t%s\n' "$(tail -n 1 "$t")" "$out" >>"$LATCHKEY_TU_LOG"
fi
rm -f "$t"
exit $rc
