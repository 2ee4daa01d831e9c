/** Auth0 custom database "Get User" script: the service's admin API (view-users). */
async function getUser(email, callback) {
  try {
    const token = await serviceToken();
    const res = await fetch(`${configuration.SERVICE_URL}/admin/realms/${encodeURIComponent(configuration.REALM)}/users?email=${encodeURIComponent(email)}&exact=true`, {
      headers: { Authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(3000),
    });
    if (!res.ok) return callback(new Error(`user search answered ${res.status}`));
    const [user] = await res.json();
    if (!user) return callback(null);
    return callback(null, { user_id: user.id, username: user.username, email: user.email, email_verified: user.emailVerified });
  } catch (error) {
    return callback(error);
  }

  async function serviceToken() {
    const res = await fetch(configuration.TOKEN_URL, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: configuration.CLIENT_ID, client_secret: configuration.CLIENT_SECRET, audience: configuration.AUDIENCE || '' }),
      signal: AbortSignal.timeout(3000),
    });
    if (!res.ok) throw new Error(`token endpoint answered ${res.status}`);
    return (await res.json()).access_token;
  }
}
