package dbreplica

import (
	"context"
	"crypto/tls"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// DefaultPort is the MariaDB/MySQL port used when an Endpoint leaves Port at 0.
const DefaultPort = 3306

// Endpoint is how this package reaches a server over the network. Password is a
// secret: no error, log line or String of this package contains it.
type Endpoint struct {
	Host     string
	Port     int // DefaultPort when 0
	User     string
	Password string
	// TLS is "" (plaintext), "true" (verify the certificate), "skip-verify" or
	// "preferred" (TLS when the server offers it), as in go-sql-driver/mysql.
	TLS string
	// DialTimeout bounds each TCP connect; 10 s when 0.
	DialTimeout time.Duration
}

// Address is host:port, without credentials.
func (e Endpoint) Address() string {
	port := e.Port
	if port == 0 {
		port = DefaultPort
	}
	return net.JoinHostPort(e.Host, strconv.Itoa(port))
}

// String names the endpoint for messages: user@host:port, never the password. It is
// also what %v and %+v print.
func (e Endpoint) String() string { return e.User + "@" + e.Address() }

// GoString keeps the password out of %#v as well.
func (e Endpoint) GoString() string { return "dbreplica.Endpoint{" + e.String() + "}" }

// ConnErrorKind says which part of the configuration a connection failure points at.
type ConnErrorKind int

const (
	// ConnUnreachable: nothing answered at host:port (refused, timed out, no route, DNS).
	ConnUnreachable ConnErrorKind = iota + 1
	// ConnAccessDenied: the server answered and refused the user or password.
	ConnAccessDenied
	// ConnHostNotAllowed: the server has no account for this user from this client address.
	ConnHostNotAllowed
	// ConnTLS: the TLS handshake or certificate check failed.
	ConnTLS
	// ConnOther: the server answered with another error (too many connections, ...).
	ConnOther
)

// ConnError is a failed connection with its cause classified, so a caller can put
// the diagnostic on the attribute to change.
type ConnError struct {
	Kind     ConnErrorKind
	Endpoint string // user@host:port
	Err      error  // the driver's or the server's own error, without the password
}

func (e *ConnError) Error() string {
	switch e.Kind {
	case ConnUnreachable:
		return fmt.Sprintf("cannot reach the database server at %s: %v", e.Endpoint, e.Err)
	case ConnAccessDenied:
		return fmt.Sprintf("the database server at %s refused the credentials: %v", e.Endpoint, e.Err)
	case ConnHostNotAllowed:
		return fmt.Sprintf("the database server at %s has no account for this user from this client's address: %v", e.Endpoint, e.Err)
	case ConnTLS:
		return fmt.Sprintf("TLS with the database server at %s failed: %v", e.Endpoint, e.Err)
	default:
		return fmt.Sprintf("connecting to the database server at %s: %v", e.Endpoint, e.Err)
	}
}

func (e *ConnError) Unwrap() error { return e.Err }

// MySQL/MariaDB server error numbers this package acts on.
const (
	errAccessDenied         = 1045 // ER_ACCESS_DENIED_ERROR
	errDBAccessDenied       = 1044 // ER_DBACCESS_DENIED_ERROR
	errAccessDeniedNoPass   = 1698 // ER_ACCESS_DENIED_NO_PASSWORD_ERROR
	errHostNotPrivileged    = 1130 // ER_HOST_NOT_PRIVILEGED
	errHostBlocked          = 1129 // ER_HOST_IS_BLOCKED
	errSpecificAccessDenied = 1227 // ER_SPECIFIC_ACCESS_DENIED_ERROR
	errTableAccessDenied    = 1142 // ER_TABLEACCESS_DENIED_ERROR
	errUnknownThread        = 1094 // ER_NO_SUCH_THREAD
)

func serverErrorNumber(err error) uint16 {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number
	}
	return 0
}

// classifyConnError turns a failed connect/ping into a ConnError. It never sees the
// password: the driver's errors carry the user and host only.
func classifyConnError(ep Endpoint, err error) *ConnError {
	ce := &ConnError{Kind: ConnOther, Endpoint: ep.String(), Err: err}
	var me *mysql.MySQLError
	var netErr net.Error
	var certErr *tls.CertificateVerificationError
	var recordErr tls.RecordHeaderError
	switch {
	case errors.As(err, &me):
		switch me.Number {
		case errAccessDenied, errDBAccessDenied, errAccessDeniedNoPass:
			ce.Kind = ConnAccessDenied
		case errHostNotPrivileged, errHostBlocked:
			ce.Kind = ConnHostNotAllowed
		}
	case errors.As(err, &certErr), errors.As(err, &recordErr),
		strings.Contains(err.Error(), "tls:"), strings.Contains(err.Error(), "x509:"):
		ce.Kind = ConnTLS
	case errors.As(err, &netErr), errors.Is(err, context.DeadlineExceeded):
		ce.Kind = ConnUnreachable
	case strings.Contains(err.Error(), "invalid connection"), strings.Contains(err.Error(), "bad connection"):
		// The server closed the socket during the handshake: as good as unreachable
		// for a caller (a proxy or firewall in the way, or not a MySQL port).
		ce.Kind = ConnUnreachable
	}
	return ce
}

// open connects and pings. The *sql.DB keeps at most two connections: this package
// runs one statement at a time per server.
func open(ctx context.Context, ep Endpoint) (*sql.DB, error) {
	if ep.Host == "" {
		return nil, &ConnError{Kind: ConnUnreachable, Endpoint: ep.String(), Err: errors.New("no host given")}
	}
	cfg := mysql.NewConfig()
	cfg.Net = "tcp"
	cfg.Addr = ep.Address()
	cfg.User = ep.User
	cfg.Passwd = ep.Password
	cfg.Timeout = ep.DialTimeout
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	cfg.TLSConfig = ep.TLS
	// The driver logs protocol oddities through a package-wide logger; the messages
	// never contain credentials, but they are noise in a provider's stderr.
	cfg.Logger = &mysql.NopLogger{}
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		// Only a bad TLS name gets here; the message names the value, not a secret.
		return nil, &ConnError{Kind: ConnTLS, Endpoint: ep.String(), Err: err}
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(2)
	db.SetMaxIdleConns(2)
	db.SetConnMaxIdleTime(time.Minute)
	pingCtx, cancel := context.WithTimeout(ctx, cfg.Timeout+5*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		_ = db.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, classifyConnError(ep, err)
	}
	return db, nil
}

// Flavor is the server family; it decides GTID syntax and status column names.
type Flavor string

const (
	MariaDB Flavor = "mariadb"
	MySQL   Flavor = "mysql"
)

// ServerVersion is what a server says about itself.
type ServerVersion struct {
	Flavor Flavor
	Raw    string // VERSION(), e.g. "10.11.19-MariaDB-0+deb12u1-log"
	Major  int
	Minor  int
	Patch  int
}

// AtLeast reports whether the version is major.minor.patch or newer.
func (v ServerVersion) AtLeast(major, minor, patch int) bool {
	if v.Major != major {
		return v.Major > major
	}
	if v.Minor != minor {
		return v.Minor > minor
	}
	return v.Patch >= patch
}

func (v ServerVersion) String() string {
	name := "MySQL"
	if v.Flavor == MariaDB {
		name = "MariaDB"
	}
	return fmt.Sprintf("%s %d.%d.%d", name, v.Major, v.Minor, v.Patch)
}

// parseVersion reads VERSION() and @@version_comment. MariaDB says so in either;
// old MariaDB releases replicating as MySQL 5.5 put "5.5.5-" in front of their own.
func parseVersion(version, comment string) ServerVersion {
	v := ServerVersion{Flavor: MySQL, Raw: version}
	raw := version
	if strings.Contains(strings.ToLower(version+" "+comment), "mariadb") {
		v.Flavor = MariaDB
		raw = strings.TrimPrefix(raw, "5.5.5-")
	}
	numbers := raw
	if i := strings.IndexFunc(raw, func(r rune) bool { return r != '.' && (r < '0' || r > '9') }); i >= 0 {
		numbers = raw[:i]
	}
	parts := strings.Split(numbers, ".")
	for i, p := range parts {
		n, _ := strconv.Atoi(p)
		switch i {
		case 0:
			v.Major = n
		case 1:
			v.Minor = n
		case 2:
			v.Patch = n
		}
	}
	return v
}

func queryVersion(ctx context.Context, db *sql.DB) (ServerVersion, error) {
	var version, comment string
	if err := db.QueryRowContext(ctx, "SELECT VERSION(), @@version_comment").Scan(&version, &comment); err != nil {
		return ServerVersion{}, fmt.Errorf("reading the server version: %w", err)
	}
	return parseVersion(version, comment), nil
}
