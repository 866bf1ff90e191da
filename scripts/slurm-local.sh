#!/usr/bin/env bash
# slurm-local.sh: a single-node Slurm cluster on 127.0.0.1, for tests and
# for trying `ppf slurm` on one machine.
#
#   scripts/slurm-local.sh start [DIR]   start munged, slurmctld and slurmd;
#                                        wait until the node is idle; print
#                                        the SLURM_CONF to export
#   scripts/slurm-local.sh stop [DIR]    stop what start started, by pid file
#   scripts/slurm-local.sh status [DIR]  say what runs; exit 0 when the node is up
#
# DIR (default $PPF_SLURM_DIR, else /tmp/ppf-slurm) holds slurm.conf, the
# state, spool and log folders and the pid files. Every command is
# idempotent: start on a running cluster and stop on a stopped one do
# nothing. stop ends only the processes whose pids start recorded, and
# only while they still run the program recorded (a pid reused by another
# program is left alone).
#
# Clusters in different DIRs run side by side (two test runs at once on
# one machine): each has its own munged, on its own socket under
# /run/munge (the default socket's munged, if any, is left alone), and its
# own ports, PPF_SLURM_PORT and the next one (default 6817 and 6818),
# written into slurm.conf when it is first made.
#
# Needs root (SlurmUser=root; munged runs as user munge) and Debian's
# packages: apt-get install --no-install-recommends slurmctld slurmd
# slurm-client munge. Clients need the config's absolute path:
# export SLURM_CONF=DIR/slurm.conf.
set -euo pipefail

cmd=${1:-}
dir=${2:-${PPF_SLURM_DIR:-/tmp/ppf-slurm}}
case $dir in /*) ;; *) dir=$PWD/$dir ;; esac
conf=$dir/slurm.conf
export SLURM_CONF=$conf
# munged checks that its socket's folder belongs to user munge, so the
# socket lives in /run/munge, named after DIR.
mid=ppf-$(printf %s "$dir" | md5sum | cut -c1-12)
msock=/run/munge/$mid.socket

die() {
	echo "slurm-local.sh: $*" >&2
	exit 1
}

# alive PIDFILE PROGRAM: the pid in PIDFILE runs PROGRAM.
alive() {
	local pid
	[ -s "$1" ] || return 1
	pid=$(cat "$1")
	[ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm")" = "$2" ]
}

munge_ok() { munge -S "$msock" -n 2>/dev/null | unmunge -S "$msock" >/dev/null 2>&1; }

node_state() { sinfo -h -N -o %t 2>/dev/null | head -n1; }

# port_busy PORT: something listens on TCP PORT (IPv4 or IPv6).
port_busy() {
	awk -v p="$(printf ':%04X' "$1")" '$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 } END { exit !f }' \
		/proc/net/tcp /proc/net/tcp6 2>/dev/null
}

write_conf() {
	local mem port=${PPF_SLURM_PORT:-6817}
	for p in "$port" $((port + 1)); do
		port_busy "$p" && die "port $p is in use (another Slurm?): set PPF_SLURM_PORT to a free pair of ports"
	done
	mem=$(awk '/^MemTotal:/ {printf "%d", $2 / 1024 * 0.9}' /proc/meminfo)
	mkdir -p "$dir/state" "$dir/spool" "$dir/log"
	# kill_invalid_depend: a job whose afterok dependency failed is
	# cancelled; without it the merge after a failed shard would wait
	# forever. ReturnToService=2: the node comes back after a restart.
	cat >"$conf" <<EOF
ClusterName=ppflocal
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$msock
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
DependencyParameters=kill_invalid_depend
ReturnToService=2
MpiDefault=none
MailProg=/bin/true
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
}

start() {
	[ "$(id -u)" = 0 ] || die "needs root (SlurmUser=root, munged as user munge)"
	for p in slurmctld slurmd sbatch sinfo munge munged unmunge; do
		command -v "$p" >/dev/null || die "$p not found: apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge"
	done
	mkdir -p "$dir"
	if alive "$dir/slurmctld.pid" slurmctld && alive "$dir/slurmd.pid" slurmd && munge_ok && [ "$(node_state)" = idle ]; then
		echo "slurm-local.sh: already running in $dir"
		echo "export SLURM_CONF=$conf"
		return
	fi
	[ -f "$conf" ] || write_conf
	if ! alive "$dir/munged.pid" munged; then
		mkdir -p /run/munge
		chown munge:munge /run/munge
		runuser -u munge -- /usr/sbin/munged --socket="$msock" --pid-file="/run/munge/$mid.pid" \
			--log-file="/run/munge/$mid.log" --seed-file="/run/munge/$mid.seed"
		cp "/run/munge/$mid.pid" "$dir/munged.pid"
	fi
	for _ in $(seq 50); do munge_ok && break; sleep 0.1; done
	munge_ok || die "munged does not answer on $msock; see /run/munge/$mid.log"
	alive "$dir/slurmctld.pid" slurmctld || slurmctld -f "$conf"
	alive "$dir/slurmd.pid" slurmd || slurmd -f "$conf" -N localhost
	for _ in $(seq 300); do
		case $(node_state) in idle | mix | alloc) break ;; esac
		sleep 0.1
	done
	for p in slurmctld slurmd; do
		alive "$dir/$p.pid" "$p" || die "$p did not start; see $dir/log/$p.log"
	done
	case $(node_state) in
	idle | mix | alloc) ;;
	*) die "the node is '$(node_state)', not idle, after 30 s; see $dir/log/slurmctld.log and slurmd.log" ;;
	esac
	echo "slurm-local.sh: running in $dir (node $(node_state))"
	echo "export SLURM_CONF=$conf"
}

# stop ends the recorded processes that still run their program: all
# signalled first, then each waited for (slurmctld takes a second or two
# to save its state).
stop() {
	local pids=() p pid
	for p in slurmd slurmctld munged; do
		if alive "$dir/$p.pid" "$p"; then
			pid=$(cat "$dir/$p.pid")
			kill "$pid"
			pids+=("$p:$pid")
		fi
		rm -f "$dir/$p.pid"
	done
	for p in "${pids[@]}"; do
		pid=${p#*:}
		for _ in $(seq 100); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
		[ -d "/proc/$pid" ] && die "${p%%:*} (pid $pid) did not stop in 10 s"
		echo "slurm-local.sh: stopped ${p%%:*} (pid $pid)"
	done
	rm -f "/run/munge/$mid".{pid,log,seed}
}

status() {
	local up=0
	for p in munged slurmctld slurmd; do
		if alive "$dir/$p.pid" "$p"; then
			echo "$p: running (pid $(cat "$dir/$p.pid"))"
		else
			echo "$p: not running"
			up=1
		fi
	done
	echo "node: $(node_state || true)"
	case $(node_state) in idle | mix | alloc) ;; *) up=1 ;; esac
	return $up
}

case $cmd in
start) start ;;
stop) stop ;;
status) status ;;
*)
	echo "usage: $0 start|stop|status [DIR]" >&2
	exit 2
	;;
esac
