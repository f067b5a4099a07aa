#!/usr/bin/env bash
# A sweep as a Slurm job array on this one machine: installs Debian's slurm-wlm and munge,
# writes a minimal single-node slurm.conf for localhost, starts munged, slurmctld and slurmd,
# runs a small sweep (built-in synthetic-text task, tiny LSTM) with `lyap sweep --emit slurm`
# + sbatch, waits for the array, and runs `lyap analyze`.
#
# Needs root (apt-get, daemons). Usage: sudo scripts/slurm-demo.sh [WORK_DIR]
# Environment: LYAP (default: target/release/lyap, built if missing), SHARDS (default 3).
#
# Works without systemd (daemons are started directly) and without accounting (slurmdbd):
# task states come from `scontrol show job`, not sacct. Safe to run again: daemons already
# running are kept (restarted if the written config changed) and a rerun on the same WORK_DIR resumes
# the sweep, whose complete trials are skipped. The daemons keep running afterwards; stop them
# with: kill $(cat /run/slurmd.pid /run/slurmctld.pid /run/munge/munged.pid)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${1:-$(mktemp -d /tmp/lyap-slurm-demo.XXXXXX)}
LYAP=${LYAP:-$ROOT/target/release/lyap}
SHARDS=${SHARDS:-3}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)

if [ ! -x "$LYAP" ]; then
  (cd "$ROOT" && cargo build --release)
fi

echo "== installing slurm-wlm and munge"
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
  || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q slurm-wlm munge
fi

echo "== starting munged"
mkdir -p /etc/munge /run/munge /var/lib/munge /var/log/munge
if [ ! -s /etc/munge/munge.key ]; then
  dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
fi
chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge
chmod 0700 /etc/munge
chmod 0400 /etc/munge/munge.key
if ! pgrep -x munged >/dev/null; then
  runuser -u munge -- /usr/sbin/munged
fi
munge -n | unmunge >/dev/null

echo "== writing slurm.conf"
HOST=$(hostname -s)
# The node's real layout (sockets/cores/threads) as slurmd sees it, so it registers cleanly.
HW=$(slurmd -C | sed -n -e '1s/^NodeName=[^ ]* *//' -e '1s/ *RealMemory=[0-9]*//p')
MEM=$(awk '/MemTotal/ { printf "%d", $2 / 1024 * 0.8 }' /proc/meminfo)
SLURM_VERSION=$(slurmd -V | awk '{ print $NF }')
echo "slurm $SLURM_VERSION on $HOST: $HW"
CONF_DIR=/etc/slurm
[ -d /etc/slurm-llnl ] && [ ! -d /etc/slurm ] && CONF_DIR=/etc/slurm-llnl
mkdir -p "$CONF_DIR" /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
# Everything on 127.0.0.1 (NodeAddr, controller address): no DNS for the host name needed.
NEW_CONF=$(cat <<CONF
ClusterName=lyapdemo
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MailProg=/bin/true
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
MinJobAge=3600
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=$HOST NodeAddr=127.0.0.1 $HW RealMemory=$MEM State=UNKNOWN
PartitionName=demo Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF
)
# No cgroup enforcement in this minimal setup (containers often lack a writable cgroup tree).
# CgroupPlugin=disabled exists from Slurm 24.05 on; older slurmd (Debian 12 has 22.05) fail
# to start with it, so they get autodetect, which only loads the plugin here: proctrack/linuxproc
# and task/none never create cgroups.
if [ "$(printf '%s\n' 24.05 "$SLURM_VERSION" | sort -V | sed -n 1p)" = 24.05 ]; then
  NEW_CGROUP="CgroupPlugin=disabled"
else
  NEW_CGROUP="CgroupPlugin=autodetect"
fi
CHANGED=0
if [ "$NEW_CONF" != "$(cat "$CONF_DIR/slurm.conf" 2>/dev/null)" ]; then
  printf '%s\n' "$NEW_CONF" > "$CONF_DIR/slurm.conf"
  CHANGED=1
fi
if [ "$NEW_CGROUP" != "$(cat "$CONF_DIR/cgroup.conf" 2>/dev/null)" ]; then
  printf '%s\n' "$NEW_CGROUP" > "$CONF_DIR/cgroup.conf"
  CHANGED=1
fi

stop_daemon() { # NAME: stops a running daemon and waits for it to exit
  local pid
  pid=$(pgrep -o -x "$1") || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || return 0; sleep 1; done
  echo "$1 (pid $pid) did not stop" >&2
  return 1
}

echo "== starting slurmctld and slurmd"
if [ "$CHANGED" = 1 ]; then # running daemons would keep the old configuration
  stop_daemon slurmd
  stop_daemon slurmctld
fi
pgrep -x slurmctld >/dev/null || slurmctld
pgrep -x slurmd >/dev/null || slurmd
READY=0
for _ in $(seq 1 60); do
  STATE=$(sinfo -h -n "$HOST" -o %T 2>/dev/null || true)
  case "$STATE" in
    idle|mixed|allocated|completing) READY=1; break ;;
    down*|drain*|fail*) scontrol update nodename="$HOST" state=resume 2>/dev/null || true ;;
  esac
  sleep 1
done
sinfo
if [ "$READY" != 1 ]; then
  echo "node $HOST not ready (state: ${STATE:-none}); see /var/log/slurm/slurmctld.log and slurmd.log" >&2
  exit 1
fi

echo "== sweep spec"
cat > "$WORK/spec.toml" <<SPEC
trials = 6
seed = 1

[train]
task = "synthetic-text"
arch = "lstm"
hidden = 8
epochs = 3
batch-size = 16
seq-len = 20
le-batch = 2
le-steps = 20

[sample.lr]
dist = "loguniform"
low = 1e-3
high = 1e-1

[sample.init-scale]
dist = "uniform"
low = 0.05
high = 0.5
SPEC

echo "== job array of $SHARDS shards"
cd "$WORK"
"$LYAP" sweep spec.toml --out "$WORK/sweep" --emit slurm --shards "$SHARDS" --workers 1 --cpus-per-task 1
JOB=$(sbatch --parsable "$WORK/sweep/sweep.slurm")
JOB=${JOB%%;*} # --parsable prints JOBID[;CLUSTER]
echo "submitted job array $JOB"
# squeue lists only pending and running tasks; stop when none of the array is left.
while [ -n "$(squeue -h -j "$JOB" -o %i 2>/dev/null)" ]; do
  squeue -j "$JOB"
  sleep 5
done
# No accounting database here, so sacct has nothing; slurmctld remembers finished tasks for
# MinJobAge seconds, and `scontrol show job` has their final state and exit code.
SUMMARY=$(scontrol -o show job "$JOB" | awk '{
  for (i = 1; i <= NF; i++) if ($i ~ /^(JobId|ArrayTaskId|JobState|ExitCode|RunTime)=/) printf "%s ", $i
  print ""
}')
echo "$SUMMARY"
cat "$WORK/sweep/logs/slurm-${JOB}_"*.out || true
DONE=$(grep 'JobState=COMPLETED ' <<<"$SUMMARY" | grep -c 'ExitCode=0:0 ' || true)
if [ "$DONE" != "$SHARDS" ]; then
  echo "only $DONE of $SHARDS array tasks completed" >&2
  exit 1
fi

echo "== analysis"
"$LYAP" analyze "$WORK/sweep" # prints the summary and the path of analysis/report.html
