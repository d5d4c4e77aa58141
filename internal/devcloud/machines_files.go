package devcloud

// The files of a machine's disk. machineMyCnf is the image's /etc/mysql/my.cnf, Debian's
// layout with a small memory footprint; the replica setup adds its own file to
// /etc/mysql/mariadb.conf.d, which a restart reads.
const machineMyCnf = `# The machine image's MariaDB configuration (Debian's layout).
[client-server]
socket = /run/mysqld/mysqld.sock

[mysqld]
datadir = /var/lib/mysql
pid-file = /run/mysqld/mysqld.pid
bind-address = 127.0.0.1
innodb_buffer_pool_size = 32M
innodb_log_file_size = 8M
performance_schema = OFF
max_connections = 50

!includedir /etc/mysql/conf.d/
!includedir /etc/mysql/mariadb.conf.d/
`

// machineService is the machine's service manager (service NAME start|stop|restart|status),
// which the setup script calls when the machine has no systemd. It knows the one service
// the image has. mariadbd listens on 127.0.0.1 and the machine's own loopback port
// (command-line options win over the option files); it records the port the option files
// configure next to it, which Cloud.DialContext maps.
const machineService = `#!/bin/bash
set -u
name=${1:-}
action=${2:-}
case "$name" in
mariadb | mysql) ;;
*)
	echo "service: $name: unrecognized service" >&2
	exit 1
	;;
esac
PIDFILE=/run/mysqld/mysqld.pid
SOCKET=/run/mysqld/mysqld.sock
LOG=/run/machine/mariadbd.log

running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

stop() {
	running || return 0
	local pid
	pid=$(cat "$PIDFILE")
	kill "$pid"
	for _ in $(seq 1 600); do
		# mariadbd removes its pid file once it has shut down.
		if [ ! -f "$PIDFILE" ] || ! kill -0 "$pid" 2>/dev/null; then
			echo "mariadb stopped"
			return 0
		fi
		sleep 0.1
	done
	kill -9 "$pid"
	rm -f "$PIDFILE"
	echo "mariadb killed after 60 s"
}

start() {
	running && return 0
	local guest host pid
	guest=$(my_print_defaults --defaults-file=/etc/mysql/my.cnf mysqld | sed -n 's/^--port=//p' | tail -n 1)
	host=$(cat /run/machine/host-port)
	echo "${guest:-3306} $host" >/run/machine/ports
	mariadbd --defaults-file=/etc/mysql/my.cnf --user=root --port="$host" --bind-address=127.0.0.1 >>"$LOG" 2>&1 </dev/null &
	pid=$!
	for _ in $(seq 1 600); do
		if mariadb-admin --no-defaults --socket="$SOCKET" --user=root ping >/dev/null 2>&1; then
			echo "mariadb started"
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "mariadbd exited during start-up:"
			tail -n 20 "$LOG"
			return 1
		fi
		sleep 0.1
	done
	echo "mariadbd did not answer within 60 s"
	return 1
}

case "$action" in
start) start ;;
stop) stop ;;
restart) stop && start ;;
status)
	if running; then
		echo "mariadb is running"
	else
		echo "mariadb is stopped"
		exit 3
	fi
	;;
*)
	echo "usage: service $name {start|stop|restart|status}" >&2
	exit 1
	;;
esac
`

// machineInit is PID 1 of a machine: it mounts the machine's own directories over the
// host's, starts the image's MariaDB as a booted Debian server would, runs the user data
// on the first boot only (cloud-init's per-instance scripts) and then idles. Its output
// is the console log. $1 is the machine's directory, $2 the boot's number.
const machineInit = `#!/bin/bash
set -u
M=$1
BOOT=$2
say() { echo "devcloud machine: $*"; }
die() {
	say "boot failed: $*"
	exit 1
}
mount --make-rprivate / || die "cannot make the mounts private"
mount -t tmpfs -o mode=0755 machine-run /run || die "cannot mount /run"
mkdir -p /run/machine /run/mysqld
mount --bind "$M" /run/machine || die "cannot mount the machine's disk"
mount --bind /run/machine/etc-mysql /etc/mysql || die "cannot mount /etc/mysql"
mount --bind /run/machine/var-lib-mysql /var/lib/mysql || die "cannot mount /var/lib/mysql"
mount --bind /run/machine/tmp /tmp || die "cannot mount /tmp"
mount --bind /run/machine/var-tmp /var/tmp || die "cannot mount /var/tmp"
mount -t proc proc /proc || die "cannot mount /proc"
cd /
export PATH=/run/machine/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
say "boot $BOOT"
service mariadb start || say "mariadb did not start"
if [ ! -e /run/machine/user-data-ran ]; then
	: >/run/machine/user-data-ran
	say "running the user data (once per instance, as cloud-init)"
	bash /run/machine/user-data
	rc=$?
	echo "$rc" >/run/machine/user-data-status
	say "the user data exited with status $rc"
fi
trap '' TERM INT HUP
while :; do
	sleep 3600 &
	wait $!
done
`
