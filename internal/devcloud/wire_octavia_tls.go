package devcloud

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/eventscale/terraform-provider-eventscale/internal/devcloud/octavia"
)

// The core's Barbican as Octavia's certificate manager sees it (barbican_cert_manager with
// barbican_acl_auth): ACL changes with the caller's token, reads as Octavia's service user,
// each under the Barbican policy that would judge the same HTTP call.

var _ octavia.KeyManager = octaviaEnv{}

var errKMNotFound = errors.New("barbican: 404 Not Found")

// GrantServiceRead is BarbicanACLAuth.ensure_secret_access: GET the ACL of ref with the
// caller's token and, unless Octavia's user is already a reader, PUT it back with that user
// added (barbicanclient's ACL.submit keeps the read operation's project-access).
func (e octaviaEnv) GrantServiceRead(r *http.Request, ref string) error {
	t := tokenFrom(r)
	if t == nil {
		return errors.New("barbican: 401 no token")
	}
	caller := kmCaller{UserID: t.UserID, ProjectID: t.ProjectID, Roles: t.Roles}
	c := e.c
	c.mu.Lock()
	defer c.mu.Unlock()
	acls, target, updated, kind, err := c.kmEntity(ref)
	if err != nil {
		return err
	}
	if !kmAllowed(kind+"_acls:get", caller, target) {
		return fmt.Errorf("barbican: 403 reading the ACL of %s", ref)
	}
	service := c.st.seed.OctaviaUserID
	read := (*acls)["read"]
	if read != nil && contains(read.Users, service) {
		return nil
	}
	if !kmAllowed(kind+"_acls:put_patch", caller, target) {
		return fmt.Errorf("barbican: 403 changing the ACL of %s", ref)
	}
	in := &kmACLInput{users: []string{service}, projectAccess: boolPtr(true)}
	if read != nil {
		in.users = append(append([]string{}, read.Users...), service)
		in.projectAccess = boolPtr(read.ProjectAccess)
	}
	now := time.Now().UTC()
	applyACL(acls, map[string]*kmACLInput{"read": in}, true, now)
	*updated = now
	return nil
}

func boolPtr(b bool) *bool { return &b }

// kmEntity finds the secret or container a reference names, with what the ACL policy
// rules look at (project and creator only). Callers hold c.mu.
func (c *Cloud) kmEntity(ref string) (acls *map[string]*kmACL, target kmTarget, updated *time.Time, kind string, err error) {
	kindPath, id, ok := kmRefID(ref)
	if !ok {
		return nil, kmTarget{}, nil, "", fmt.Errorf("barbican: %q is not a secret or container reference", ref)
	}
	switch kindPath {
	case "secrets":
		s := c.st.secrets[id]
		if s == nil || kmExpired(s.Expiration, time.Now()) {
			return nil, kmTarget{}, nil, "", errKMNotFound
		}
		return &s.ACLs, kmTarget{ProjectID: s.ProjectID, CreatorID: s.CreatorID}, &s.Updated, "secret", nil
	default:
		ct := c.st.containers[id]
		if ct == nil {
			return nil, kmTarget{}, nil, "", errKMNotFound
		}
		return &ct.ACLs, kmTarget{ProjectID: ct.ProjectID, CreatorID: ct.CreatorID}, &ct.Updated, "container", nil
	}
}

// octaviaCaller is Octavia's service user with its token's roles (project service).
func (c *Cloud) octaviaCaller() kmCaller {
	u := c.st.users[c.st.seed.OctaviaUserID]
	if u == nil {
		return kmCaller{}
	}
	return kmCaller{UserID: u.ID, ProjectID: u.DefaultProjectID, Roles: u.Roles[u.DefaultProjectID]}
}

// ServiceContainer is barbicanclient's containers.get as Octavia's service user.
func (e octaviaEnv) ServiceContainer(ref string) (octavia.CertContainer, error) {
	c := e.c
	c.mu.Lock()
	defer c.mu.Unlock()
	kind, id, ok := kmRefID(ref)
	if !ok || kind != "containers" {
		return octavia.CertContainer{}, fmt.Errorf("barbican: %q is not a container reference", ref)
	}
	ct := c.st.containers[id]
	if ct == nil {
		return octavia.CertContainer{}, errKMNotFound
	}
	if !kmAllowed("container:get", c.octaviaCaller(), ct.target()) {
		return octavia.CertContainer{}, fmt.Errorf("barbican: 403 reading container %s", ref)
	}
	out := octavia.CertContainer{Type: ct.Type, SecretRefs: map[string]string{}}
	base := ref[:len(ref)-len("containers/")-len(id)]
	for _, r := range ct.Refs {
		out.SecretRefs[derefOr(r.Name)] = base + "secrets/" + r.SecretID
	}
	return out, nil
}

// ServiceSecretPayload is barbicanclient's secrets.get(ref).payload as Octavia's service user:
// the metadata (secret:get), then the payload (secret:decrypt).
func (e octaviaEnv) ServiceSecretPayload(ref string) ([]byte, error) {
	c := e.c
	c.mu.Lock()
	defer c.mu.Unlock()
	kind, id, ok := kmRefID(ref)
	if !ok || kind != "secrets" {
		return nil, fmt.Errorf("barbican: %q is not a secret reference", ref)
	}
	s := c.st.secrets[id]
	if s == nil || kmExpired(s.Expiration, time.Now()) {
		return nil, errKMNotFound
	}
	caller := c.octaviaCaller()
	if !kmAllowed("secret:get", caller, s.target()) || !kmAllowed("secret:decrypt", caller, s.target()) {
		return nil, fmt.Errorf("barbican: 403 reading secret %s", ref)
	}
	if s.ContentType == "" {
		return nil, fmt.Errorf("barbican: secret %s has no payload", ref)
	}
	return append([]byte(nil), s.Payload...), nil
}
