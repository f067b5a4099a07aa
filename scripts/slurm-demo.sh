#!/usr/bin/env bash
# A sweep as a Slurm job array on this one machine: installs Debian's slurm-wlm and munge,
# writes a minimal single-node slurm.conf for localhost, starts munged, slurmctld and slurmd,
# runs a small sweep (built-in synthetic-text task, tiny LSTM) with `lyap sweep --emit slurm`
# + sbatch, waits for the array, and runs `lyap analyze`.
#
# Needs root (apt-get, daemons). Usage: sudo scripts/slurm-demo.sh [WORK_DIR]
# Environment: LYAP (default: target/release/lyap, built if missing), SHARDS (default 3).
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
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
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
CPUS=$(nproc)
MEM=$(awk '/MemTotal/ { printf "%d", $2 / 1024 * 0.8 }' /proc/meminfo)
CONF_DIR=/etc/slurm
[ -d /etc/slurm-llnl ] && [ ! -d /etc/slurm ] && CONF_DIR=/etc/slurm-llnl
mkdir -p "$CONF_DIR" /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
cat > "$CONF_DIR/slurm.conf" <<CONF
ClusterName=lyapdemo
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=$HOST CPUs=$CPUS RealMemory=$MEM State=UNKNOWN
PartitionName=demo Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF
# No cgroups in this minimal setup (containers often lack a writable cgroup tree).
cat > "$CONF_DIR/cgroup.conf" <<CONF
CgroupPlugin=disabled
CONF

echo "== starting slurmctld and slurmd"
pgrep -x slurmctld >/dev/null || slurmctld
pgrep -x slurmd >/dev/null || slurmd
for _ in $(seq 1 30); do
  if sinfo -h -o %T 2>/dev/null | grep -qE 'idle|mixed|alloc'; then break; fi
  scontrol update nodename="$HOST" state=resume 2>/dev/null || true
  sleep 1
done
sinfo

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
echo "submitted job array $JOB"
while squeue -h -j "$JOB" 2>/dev/null | grep -q .; do
  squeue -j "$JOB"
  sleep 5
done
sacct -j "$JOB" 2>/dev/null || true
cat "$WORK"/sweep/logs/slurm-*.out || true

echo "== analysis"
"$LYAP" analyze "$WORK/sweep"
echo "report: $WORK/sweep/analysis/report.html"
