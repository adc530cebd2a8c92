#!/usr/bin/env bash
# Everyday programs natively and in `preld pola -B`, compared.
#
#   tests/survey/survey.sh [-u UID] [CASE...]
#
# Each case of tests/survey/cases (a `### NAME` line, then a bash script)
# runs twice natively and once in a session, from the same scratch
# directory /tmp/pola-survey/NAME (made empty before each run, granted
# --rw to the session), with stdin /dev/null and the environment
#   PATH=/usr/bin:/bin LC_ALL=C TZ=UTC HOME=/nonexistent
# Prints one line a case: `same`, `DIFFERS` (stdout, stderr or the status;
# the diffs are in /tmp/pola-survey/NAME.diff) or `unstable` (the two
# native runs differ: the case, not preld, needs fixing). With -u UID both
# runs are made as that user (gid the same, no groups; preld must be a copy
# that user can run: PRELD=...). PRELD defaults to target/preld/preld.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
preld=${PRELD:-$root/target/preld/preld}
top=/tmp/pola-survey
user=
if [ "${1-}" = -u ]; then user=$2; shift 2; fi
mkdir -p "$top"; chmod 755 "$top"

names=$(sed -n 's/^### \([^ ]*\).*/\1/p' "$here/cases")
[ $# -gt 0 ] && names="$*"

body() { awk -v n="$1" '/^### /{p = ($2 == n); next} p' "$here/cases"; }

as_user() {
    if [ -n "$user" ]; then setpriv --reuid="$user" --regid="$user" --clear-groups -- "$@"; else "$@"; fi
}

# run KIND DIR SCRIPT: KIND native or session; output in DIR.KIND.{out,err,rc}
run() {
    local kind=$1 d=$2 script=$3
    rm -rf "$d"; mkdir -p "$d"; [ -n "$user" ] && chown "$user:$user" "$d"
    local cmd=(bash -c "$script")
    [ "$kind" = session ] && cmd=("$preld" pola -B --rw "$d" -- "${cmd[@]}")
    (cd "$d" && as_user env -i PATH=/usr/bin:/bin LC_ALL=C TZ=UTC HOME=/nonexistent \
        timeout 120 "${cmd[@]}" </dev/null >"$d.$kind.out" 2>"$d.$kind.err"; echo $? >"$d.$kind.rc")
}

for n in $names; do
    s=$(body "$n")
    d=$top/$n
    run native "$d" "$s"
    for f in out err rc; do mv "$d.native.$f" "$d.native1.$f"; done
    run native "$d" "$s"
    run session "$d" "$s"
    verdict=same
    if ! cmp -s "$d.native1.out" "$d.native.out" || ! cmp -s "$d.native1.err" "$d.native.err" || ! cmp -s "$d.native1.rc" "$d.native.rc"; then
        verdict=unstable
    fi
    : >"$d.diff"
    for f in rc out err; do
        if ! cmp -s "$d.native.$f" "$d.session.$f"; then
            [ $verdict = same ] && verdict=DIFFERS
            diff -u --label "native $f" --label "session $f" "$d.native.$f" "$d.session.$f" >>"$d.diff"
        fi
    done
    printf '%-14s %-8s rc %s/%s\n' "$n" "$verdict" "$(cat "$d.native.rc")" "$(cat "$d.session.rc")"
done
