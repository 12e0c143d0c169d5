#!/bin/bash
# The view under a profiler, through a whole rollout: `kos sim serve` in its own process,
# a Deployment `scale/web` scaled from 0 to PODS replicas while `kos watch` shows it in a
# private tmux server (200×60). Prints the screen once the view shows every pod ready, the
# number of changes the namespace saw (resourceVersions: about one watch event each) and
# kubectl's rollout time beside the view's.
#
#   benches/profile/view.sh KOS OUT SPEED PODS [callgrind|heaptrack|none]
#
# callgrind counts instructions, which do not depend on the machine's load: divide the
# total (`callgrind_annotate OUT.cg | head`) by the events printed. Under callgrind kos runs
# some 50 times slower; SPEED 0.1 slows the simulated cluster so that kos keeps up.
set -u
KOS=$1 OUT=$2 SPEED=$3 PODS=$4 TOOL=${5:-callgrind}
dir=$(mktemp -d)
"$KOS" sim serve --speed "$SPEED" --kubeconfig-out "$dir/kc" > "$dir/sim.log" 2>&1 &
SIM=$!
for _ in $(seq 1 100); do [ -s "$dir/kc" ] && break; sleep 0.2; done
K="kubectl --kubeconfig $dir/kc"
until $K get ns > /dev/null 2>&1; do sleep 0.2; done
$K create ns scale > /dev/null
$K apply -f - > /dev/null <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: scale}
spec:
  replicas: 0
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: app, image: "nginx:1.27"}]}
YAML
case $TOOL in
  callgrind) PRE="valgrind --tool=callgrind --callgrind-out-file=$OUT.cg" ;;
  heaptrack) PRE="heaptrack -o $OUT.ht" ;;
  *) PRE="" ;;
esac
SOCK=kos-profile-$$
tmux -L "$SOCK" new-session -d -x 200 -y 60 \
  "$PRE $KOS watch deployment/web -n scale --stabilize 0 --output tui --kubeconfig $dir/kc; sleep 600"
# The view has read the empty Deployment (and judged it) before the rollout starts.
for _ in $(seq 1 600); do tmux -L "$SOCK" capture-pane -p | grep -q "done in" && break; sleep 0.5; done
rv() { $K get --raw '/api/v1/namespaces/scale/pods?limit=1' | jq -r .metadata.resourceVersion; }
before=$(rv)
start=$(date +%s.%N)
$K scale deployment/web -n scale --replicas="$PODS" > /dev/null
$K rollout status deployment/web -n scale --timeout=30m > /dev/null
kubectl_done=$(date +%s.%N)
for _ in $(seq 1 3600); do
  tmux -L "$SOCK" capture-pane -p > "$dir/screen"
  grep -q "$PODS/$PODS replicas" "$dir/screen" && grep -q " 0 starting" "$dir/screen" && break
  sleep 0.5
done
view_done=$(date +%s.%N)
after=$(rv)
head -8 "$dir/screen"
pid=$(pgrep -P "$(tmux -L "$SOCK" display-message -p '#{pane_pid}')" | head -1)
grep -E "VmHWM|VmRSS" "/proc/$pid/status"
tmux -L "$SOCK" send-keys q
if [ "$TOOL" = callgrind ]; then
  for _ in $(seq 1 300); do grep -q "^totals:" "$OUT.cg" 2> /dev/null && break; sleep 1; done
fi
if [ "$TOOL" = heaptrack ]; then
  for _ in $(seq 1 300); do [ -z "$(pgrep -P "$pid")" ] && ! kill -0 "$pid" 2> /dev/null && break; sleep 1; done
fi
tmux -L "$SOCK" kill-server
kill "$SIM"
echo "events ~$((after - before)), kubectl $(echo "$kubectl_done - $start" | bc) s," \
  "view all ready $(echo "$view_done - $start" | bc) s"
