package dbreplica

import (
	"context"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // MySQL's native password hash is SHA1(SHA1(password)); it is compared, not chosen.
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"math/big"
	"regexp"
	"strings"

	"github.com/go-sql-driver/mysql"
)

// maxUserNameLen is MySQL's limit (MariaDB allows 80): names fit both.
const maxUserNameLen = 32

// ReplicationUserName is the primary's replication account of a replica set, e.g.
// "es_repl_event" for set "event". Names that are not plain [a-z0-9_] or too long get
// a hash suffix, so two sets never share an account.
func ReplicationUserName(set string) string { return accountName("es_repl_", set) }

// MonitorUserName is the account the user data creates on each replica of the set,
// through which the provider reads replication status and stops replication.
func MonitorUserName(set string) string { return accountName("es_mon_", set) }

func accountName(prefix, set string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(set) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	clean := b.String()
	room := maxUserNameLen - len(prefix)
	if clean == set && clean != "" && len(clean) <= room {
		return prefix + clean
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(set))
	suffix := fmt.Sprintf("%08x", h.Sum32())
	keep := min(len(clean), room-len(suffix)-1)
	return prefix + clean[:keep] + "_" + suffix
}

const passwordAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// PasswordLength is the length of generated passwords: MySQL and MariaDB store at most
// 32 characters for a replication source password.
const PasswordLength = 32

// GeneratePassword returns a random password of PasswordLength letters and digits
// (about 190 bits). Letters and digits only: the password travels through SQL
// literals, option files and a shell script without any quoting subtleties.
func GeneratePassword() (string, error) {
	out := make([]byte, PasswordLength)
	limit := big.NewInt(int64(len(passwordAlphabet)))
	for i := range out {
		n, err := rand.Int(rand.Reader, limit)
		if err != nil {
			return "", fmt.Errorf("generating a password: %w", err)
		}
		out[i] = passwordAlphabet[n.Int64()]
	}
	return string(out), nil
}

var (
	accountNameRE = regexp.MustCompile(`^[A-Za-z0-9_]{1,32}$`)
	// Host parts: names, IPv4/IPv6 addresses, the % and _ wildcards, netmasks.
	accountHostRE = regexp.MustCompile(`^[A-Za-z0-9.%_:/-]{1,255}$`)
	passwordRE    = regexp.MustCompile(`^[A-Za-z0-9]{12,32}$`)
)

func validateAccount(what, name, host, password string) error {
	if !accountNameRE.MatchString(name) {
		return fmt.Errorf("%s name %q: use 1 to 32 letters, digits or underscores", what, name)
	}
	if !accountHostRE.MatchString(host) {
		return fmt.Errorf("%s host %q: use a host name, an address, or a pattern with %% and _", what, host)
	}
	if !passwordRE.MatchString(password) {
		// Never echo the password itself.
		return fmt.Errorf("%s password for %s: use 12 to 32 letters and digits (GeneratePassword makes one)", what, name)
	}
	return nil
}

// sqlString quotes a string literal. Doubling the quote works whatever the server's
// sql_mode (a backslash does not under NO_BACKSLASH_ESCAPES); the values it gets are
// validated not to contain backslashes or control characters in the first place.
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func sqlAccount(name, host string) string { return sqlString(name) + "@" + sqlString(host) }

// nativePasswordHash is mysql_native_password's stored form of a password.
func nativePasswordHash(password string) string {
	first := sha1.Sum([]byte(password)) //nolint:gosec // see import
	second := sha1.Sum(first[:])        //nolint:gosec // see import
	return "*" + strings.ToUpper(hex.EncodeToString(second[:]))
}

// redact hides secrets that a server might echo back (a syntax error quotes the
// statement near the error). A server error stays a *mysql.MySQLError with its number.
func redact(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	clean := func(msg string) string {
		for _, s := range secrets {
			if s != "" {
				msg = strings.ReplaceAll(msg, s, "<redacted>")
			}
		}
		return msg
	}
	if clean(err.Error()) == err.Error() {
		return err
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return &mysql.MySQLError{Number: me.Number, SQLState: me.SQLState, Message: clean(me.Message)}
	}
	return errors.New(clean(err.Error()))
}

// ReplicationUser is the primary's account that replicas stream the binary log and
// take their initial dump with.
type ReplicationUser struct {
	Name     string // ReplicationUserName(set)
	Host     string // host part; "%" when empty. Narrow it to the replicas' subnet where you can, e.g. "10.0.0.%"
	Password string // secret; the caller keeps it (sensitive state) and passes it to the user data
}

// String names the account without its password (also for %v and %+v).
func (u ReplicationUser) String() string { return u.Name + "@" + u.host() }

// GoString keeps the password out of %#v.
func (u ReplicationUser) GoString() string { return "dbreplica.ReplicationUser{" + u.String() + "}" }

func (u ReplicationUser) host() string {
	if u.Host == "" {
		return "%"
	}
	return u.Host
}

// EnsureResult says what EnsureReplicationUser did.
type EnsureResult struct {
	Created bool
	// PasswordUpdated: the account existed with another password (or one this package
	// cannot compare, such as MySQL's caching_sha2_password) and was given the caller's.
	// Replicas still using the old password fail at their next reconnect.
	PasswordUpdated bool
}

// EnsureReplicationUser creates the replication account on the primary, or finds it on
// a second run, and (re)grants its privileges. Statements use IF [NOT] EXISTS because
// they go to the binary log: the replicas of other sets replay them and must not stop
// on an account they already have.
func (p *Primary) EnsureReplicationUser(ctx context.Context, u ReplicationUser) (EnsureResult, error) {
	var res EnsureResult
	host := u.host()
	if err := validateAccount("replication account", u.Name, host, u.Password); err != nil {
		return res, err
	}
	account := sqlAccount(u.Name, host)
	var plugin, stored sql.NullString
	err := p.db.QueryRowContext(ctx, "SELECT plugin, authentication_string FROM mysql.user WHERE User = ? AND Host = ?", u.Name, host).
		Scan(&plugin, &stored)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := p.db.ExecContext(ctx, "CREATE USER IF NOT EXISTS "+account+" IDENTIFIED BY "+sqlString(u.Password)); err != nil {
			return res, fmt.Errorf("creating the replication account %s@%s on the primary %s: %w", u.Name, host, p.ep.Address(), redact(err, u.Password))
		}
		res.Created = true
	case err != nil:
		return res, fmt.Errorf("looking up the replication account %s@%s on the primary %s: %w", u.Name, host, p.ep.Address(), err)
	default:
		samePassword := (plugin.String == "mysql_native_password" || plugin.String == "") && stored.String == nativePasswordHash(u.Password)
		if !samePassword {
			if _, err := p.db.ExecContext(ctx, "ALTER USER IF EXISTS "+account+" IDENTIFIED BY "+sqlString(u.Password)); err != nil {
				return res, fmt.Errorf("setting the password of the replication account %s@%s on the primary %s: %w", u.Name, host, p.ep.Address(), redact(err, u.Password))
			}
			res.PasswordUpdated = true
		}
	}
	grant := "GRANT " + strings.Join(replicationGrants(p.version.Flavor), ", ") + " ON *.* TO " + account
	if _, err := p.db.ExecContext(ctx, grant); err != nil {
		return res, fmt.Errorf("granting replication privileges to %s@%s on the primary %s: %w", u.Name, host, p.ep.Address(), err)
	}
	return res, nil
}

// DropResult says what DropReplicationUser did.
type DropResult struct {
	Existed bool
	// ClosedStreams are the client addresses of binlog streams that were still open
	// under the account: a stopped replica's stream lingers on the primary until its
	// next heartbeat write fails.
	ClosedStreams []string
}

// DropReplicationUser removes the replication account once the last replica of the
// set is gone. Call it only after StopReplication ran on every replica of the set:
// it closes any binlog stream still open under the account, so a replica the caller
// forgot would lose its stream here.
func (p *Primary) DropReplicationUser(ctx context.Context, name, host string) (DropResult, error) {
	var res DropResult
	if host == "" {
		host = "%"
	}
	if !accountNameRE.MatchString(name) || !accountHostRE.MatchString(host) {
		return res, fmt.Errorf("replication account %q@%q: not a name this package creates", name, host)
	}
	var n int
	if err := p.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM mysql.user WHERE User = ? AND Host = ?", name, host).Scan(&n); err != nil {
		return res, fmt.Errorf("looking up the replication account %s@%s on the primary %s: %w", name, host, p.ep.Address(), err)
	}
	res.Existed = n > 0
	streams, err := p.binlogStreams(ctx, name)
	if err != nil {
		return res, err
	}
	for _, s := range streams {
		if _, err := p.db.ExecContext(ctx, fmt.Sprintf("KILL CONNECTION %d", s.id)); err != nil && serverErrorNumber(err) != errUnknownThread {
			return res, fmt.Errorf("closing the binlog stream of %s (connection %d from %s) on the primary %s: %w", name, s.id, s.client, p.ep.Address(), err)
		}
		res.ClosedStreams = append(res.ClosedStreams, s.client)
	}
	if _, err := p.db.ExecContext(ctx, "DROP USER IF EXISTS "+sqlAccount(name, host)); err != nil {
		return res, fmt.Errorf("dropping the replication account %s@%s on the primary %s: %w", name, host, p.ep.Address(), err)
	}
	return res, nil
}

type binlogStream struct {
	id     int64
	client string
}

// binlogStreams lists the primary's binlog dump threads serving the account.
func (p *Primary) binlogStreams(ctx context.Context, user string) ([]binlogStream, error) {
	rows, err := p.db.QueryContext(ctx,
		"SELECT ID, HOST FROM information_schema.PROCESSLIST WHERE USER = ? AND COMMAND LIKE 'Binlog Dump%'", user)
	if err != nil {
		return nil, fmt.Errorf("listing the binlog streams of %s on the primary %s: %w", user, p.ep.Address(), err)
	}
	defer rows.Close()
	var out []binlogStream
	for rows.Next() {
		var s binlogStream
		if err := rows.Scan(&s.id, &s.client); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// BinlogStreams lists the client addresses streaming the binary log under the account:
// one per replica of the set that is connected.
func (p *Primary) BinlogStreams(ctx context.Context, user string) ([]string, error) {
	streams, err := p.binlogStreams(ctx, user)
	var out []string
	for _, s := range streams {
		out = append(out, s.client)
	}
	return out, err
}
