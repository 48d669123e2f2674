#!/usr/bin/env bash
# Brings up a single-node SLURM cluster on this machine (for tests/slurm): munge with a key made
# on the spot, one node with all CPUs, slurmctld + slurmd run as root. Idempotent: exits 0 at once
# when the node already answers. Needs root; installs slurm-wlm and munge with apt when missing.
#   scripts/slurm-up.sh          # up (or already up)
#   scripts/slurm-up.sh --down   # stop the daemons this script started
set -euo pipefail

RUN=/run/diffskim-slurm
node_ready() { sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated|completing)'; }

stop_pidfile() {
  local f="$RUN/$1.pid"
  if [[ -f $f ]]; then kill "$(cat "$f")" 2>/dev/null || true; rm -f "$f"; fi
}

if [[ ${1:-} == --down ]]; then
  stop_pidfile slurmd; stop_pidfile slurmctld; stop_pidfile munged
  exit 0
fi

if command -v sinfo >/dev/null && node_ready; then
  echo "slurm-up: already up"; exit 0
fi
if [[ $(id -u) != 0 ]]; then echo "slurm-up: needs root" >&2; exit 1; fi

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi

mkdir -p "$RUN" /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge /var/lib/munge /var/log/munge
chown munge:munge /run/munge /var/lib/munge /var/log/munge /etc/munge
chmod 0711 /run/munge

# munge: a fresh key if none, then the daemon (as the munge user, which munged requires).
if [[ ! -s /etc/munge/munge.key ]]; then
  mungekey --create --keyfile=/etc/munge/munge.key 2>/dev/null || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
fi
chown munge:munge /etc/munge/munge.key
chmod 0400 /etc/munge/munge.key
if ! munge -n </dev/null >/dev/null 2>&1; then
  runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid
  cp /run/munge/munged.pid "$RUN/munged.pid"
fi

HOST=$(hostname -s)
MEM_MB=$(awk '/MemTotal/ { print int($2 / 1024 * 0.9) }' /proc/meminfo)
cat >/etc/slurm/slurm.conf <<EOF
# Written by diffskim scripts/slurm-up.sh: a one-node test cluster.
ClusterName=diffskim
SlurmctldHost=$HOST
SlurmUser=root
AuthType=auth/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
ReturnToService=2
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MinJobAge=60
NodeName=$HOST CPUs=$(nproc) RealMemory=$MEM_MB State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF

# Both daemons fork into the background and write their pid files; -c: start with no saved jobs.
pgrep -F "$RUN/slurmctld.pid" >/dev/null 2>&1 || slurmctld -c
pgrep -F "$RUN/slurmd.pid" >/dev/null 2>&1 || slurmd

for _ in $(seq 1 60); do
  if node_ready; then echo "slurm-up: node $HOST up with $(nproc) CPUs"; exit 0; fi
  sleep 0.5
done
echo "slurm-up: node did not come up in 30 s; see /var/log/slurm/slurmctld.log and slurmd.log" >&2
sinfo >&2 || true
exit 1
