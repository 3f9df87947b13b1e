#!/usr/bin/env bash
# cluster.sh — a one-node Slurm cluster on this machine, for tests/slurm and
# CI (.ci/run):
#   cluster.sh start DIR   writes DIR/slurm.conf, starts munged (unless one
#                          answers already), slurmctld and slurmd, and waits
#                          (60 s at most) for the node to be idle
#   cluster.sh stop DIR    stops what `start DIR` started
# Clients then need SLURM_CONF=DIR/slurm.conf. Needs root (slurmd starts jobs
# as their users) and Debian's slurm-wlm and munge packages. No cgroups:
# processes are tracked through /proc, which any container allows.
set -uo pipefail
action=${1:-} dir=${2:-}
[ -n "$dir" ] && { [ "$action" = start ] || [ "$action" = stop ]; } ||
    { echo "usage: cluster.sh start|stop DIR" >&2; exit 2; }

# Kills the daemon whose pid file is $1 and waits for it (10 s at most).
stop_daemon() {
    local pid
    pid=$(cat "$1" 2>/dev/null) || return 0
    kill "$pid" 2>/dev/null || return 0
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null
}

if [ "$action" = stop ]; then
    stop_daemon "$dir/slurmd.pid"
    stop_daemon "$dir/slurmctld.pid"
    [ -f "$dir/munged.ours" ] && stop_daemon /run/munge/munged.pid
    exit 0
fi

[ "$(id -u)" = 0 ] || { echo "cluster.sh: needs root (slurmd runs jobs as their users)" >&2; exit 1; }
for tool in munged munge slurmctld slurmd sinfo; do
    command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] ||
        { echo "cluster.sh: no $tool (apt-get install slurm-wlm munge)" >&2; exit 1; }
done
export PATH=$PATH:/usr/sbin
mkdir -p "$dir/state" "$dir/spool"
dir=$(cd "$dir" && pwd)

# Munge signs Slurm's messages; its package made a key, else make one.
if ! munge -n </dev/null >/dev/null 2>&1; then
    mkdir -p /run/munge /var/lib/munge /var/log/munge /etc/munge
    chown munge:munge /run/munge /var/lib/munge /var/log/munge /etc/munge
    if [ ! -s /etc/munge/munge.key ]; then
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 2>/dev/null
        chown munge:munge /etc/munge/munge.key
        chmod 400 /etc/munge/munge.key
    fi
    runuser -u munge -- munged </dev/null >/dev/null 2>&1 ||
        { echo "cluster.sh: munged did not start" >&2; exit 1; }
    touch "$dir/munged.ours"
    for _ in $(seq 50); do munge -n </dev/null >/dev/null 2>&1 && break; sleep 0.2; done
fi

host=$(hostname -s)
cat >"$dir/slurm.conf" <<CONF
# One node, this machine, reached on 127.0.0.1 whatever its name resolves to.
ClusterName=attnbench-test
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=6817
SlurmdPort=6818
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
# No cgroups in a container: track processes through /proc, bind no CPUs.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
# Look at pending jobs (a dependency just satisfied) every few seconds, not every minute.
SchedulerParameters=sched_interval=2,bf_interval=2
MpiDefault=none
ReturnToService=2
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=60 State=UP
CONF
export SLURM_CONF=$dir/slurm.conf
slurmctld </dev/null >/dev/null 2>&1 || { echo "cluster.sh: slurmctld did not start:" >&2; tail -5 "$dir/slurmctld.log" >&2; exit 1; }
slurmd </dev/null >/dev/null 2>&1 || { echo "cluster.sh: slurmd did not start:" >&2; tail -5 "$dir/slurmd.log" >&2; exit 1; }
for _ in $(seq 60); do
    state=$(timeout 5 sinfo -h -o %T 2>/dev/null)
    [ "$state" = idle ] && { echo "cluster.sh: node $host idle; SLURM_CONF=$SLURM_CONF"; exit 0; }
    sleep 1
done
echo "cluster.sh: the node is '${state:-unreachable}' after 60 s:" >&2
tail -5 "$dir/slurmctld.log" "$dir/slurmd.log" >&2
exit 1
