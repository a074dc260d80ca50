#!/usr/bin/env bash
# Measures the CPU cost of a clean build: configures a fresh build dir with the given preset (ccache off), builds
# it with every compile and link timed (scripts/tu-time.sh), then prints the CPU seconds per target and the
# heaviest translation units. CPU time (user+sys) is what a 2-core CI machine pays; it stays meaningful on a loaded
# machine where wall time does not.
# Usage: scripts/build-times.sh [PRESET [BUILD_DIR [JOBS]]]      (default: asan build/cpu-asan 2)
#        scripts/build-times.sh --report LOG                     (summarize an existing log again)
set -euo pipefail
cd "$(dirname "$0")/.."
report() {
    local log=$1
    echo "CPU seconds (user+sys) per target, heaviest first:"
    awk -F'\t' '{
        t = $4; if (match(t, /CMakeFiles\/[^\/]+\.dir\//)) { t = substr(t, RSTART + 11, RLENGTH - 16) } else { n = split(t, p, "/"); t = "link:" p[n] }
        cpu[t] += $1 + $2; n_[t]++; all += $1 + $2
    } END { for (k in cpu) printf "%9.1f  %4d  %s\n", cpu[k], n_[k], k; printf "%9.1f  %4d  %s\n", all, NR, "(all compiles and links)" }' "$log" | sort -rn
    echo
    echo "Heaviest 25 compiles/links (CPU s, wall s, output):"
    awk -F'\t' '{ printf "%7.1f %7.1f  %s\n", $1 + $2, $3, $4 }' "$log" | sort -rn | head -25 | sed "s|$PWD/||"
}
if [ "${1:-}" = "--report" ]; then report "${2:?log}"; exit 0; fi
preset=${1:-asan}; dir=${2:-build/cpu-$preset}; jobs=${3:-2}
rm -rf "$dir"
log=$PWD/$dir/tu-times.tsv
export CCACHE_DISABLE=1 LATCHKEY_TU_LOG=$log
unset CMAKE_CXX_COMPILER_LAUNCHER
cmake --preset "$preset" -B "$dir" -DCMAKE_CXX_COMPILER_LAUNCHER="$PWD/scripts/tu-time.sh" \
      -DCMAKE_CXX_LINKER_LAUNCHER="$PWD/scripts/tu-time.sh" >/dev/null
mkdir -p "$dir"; : >"$log"
/usr/bin/time -f 'build: %e s wall, %U s user, %S s sys' -o "$dir/build-time.txt" \
    cmake --build "$dir" -j "$jobs" >"$dir/build.out" 2>&1 || { tail -30 "$dir/build.out"; exit 1; }
cat "$dir/build-time.txt"
report "$log"
