package devcloud

// revokeIssuedTokens invalidates every token issued so far (FaultRule.RevokeTokens). Keystone
// does this when a user's password changes or its token keys are rotated without overlap:
// keystonemiddleware then answers 401 to a token it accepted a moment before, and a client
// must authenticate again. New tokens are accepted as usual.
func (c *Cloud) revokeIssuedTokens() {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.st.tokens)
	clear(c.st.tokens)
	c.Event("identity.tokens_revoked", map[string]any{"tokens": n})
}
