#!/bin/sh
# benchdecode.sh compares decoding speed (BenchmarkDecode: tokens/s of
# stories260K and babyllama-tok105) of this working tree against an older
# commit, by default the engine before its decoding kernels. It builds both
# test binaries, the old one from a git worktree with this tree's
# decode_bench_test.go dropped in, and runs them alternately, so that both
# see the same machine; it prints every run and, per model, the median
# tokens/s of each and their ratio.
#
#	native/benchdecode.sh [commit]        # COUNT=7 CPU=1 by default
set -eu
base=${1:-2f01797}
count=${COUNT:-7}
cpu=${CPU:-1}
root=$(git rev-parse --show-toplevel)
tmp=$(mktemp -d)
trap 'git -C "$root" worktree remove --force "$tmp/old" >/dev/null 2>&1; rm -rf "$tmp"' EXIT
git -C "$root" worktree add --detach "$tmp/old" "$base" >/dev/null 2>&1
cp "$root/native/decode_bench_test.go" "$tmp/old/native/"
(cd "$tmp/old" && go test -c -o "$tmp/old.test" ./native/)
(cd "$root" && go test -c -o "$tmp/new.test" ./native/)
export PPF_MODELS="${PPF_MODELS:-$(cd "$root/.." && pwd)/shared/models}"
echo "old: $base; new: the working tree; -test.cpu $cpu, $count alternations; load: $(uptime | sed 's/.*load/load/')"
i=0
while [ "$i" -lt "$count" ]; do
	for v in old new; do
		"$tmp/$v.test" -test.run XXX -test.bench Decode -test.cpu "$cpu" | awk -v v=$v '/tokens\/s/ { print v, $1, $(NF-1) }'
	done
	i=$((i + 1))
done | tee "$tmp/runs"
# per model: the medians of each side, their ratio, and the median of the
# ratios of each alternation's pair, which a load that drifts during the
# run disturbs less
awk '
function median(a, n,    i, j, t) {
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{ k = $2 SUBSEP $1; n[k]++; val[k, n[k]] = $3; names[$2] = 1 }
END {
	for (m in names) {
		no = n[m, "old"]; nn = n[m, "new"]
		for (j = 1; j <= no; j++) o[j] = val[m, "old", j]
		for (j = 1; j <= nn; j++) { w[j] = val[m, "new", j]; r[j] = val[m, "new", j] / val[m, "old", j] }
		mr = median(r, nn); mo = median(o, no); mn = median(w, nn)
		printf "%s: old %.0f tokens/s, new %.0f tokens/s (medians), %.2fx; paired ratios median %.2fx\n", m, mo, mn, mn / mo, mr
	}
}' "$tmp/runs"
