/** Auth0 custom database "Change Password" script: the service sets it (its policy and history apply; manage-users). */
async function changePassword(email, newPassword, callback) {
  try {
    const token = await serviceToken();
    const base = `${configuration.SERVICE_URL}/admin/realms/${encodeURIComponent(configuration.REALM)}`;
    const found = await fetch(`${base}/users?email=${encodeURIComponent(email)}&exact=true`, { headers: { Authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(3000) });
    if (!found.ok) return callback(new Error(`user search answered ${found.status}`));
    const [user] = await found.json();
    if (!user) return callback(null, false);
    const res = await fetch(`${base}/users/${encodeURIComponent(user.id)}/reset-password`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'password', value: newPassword, temporary: false }),
      signal: AbortSignal.timeout(5000),
    });
    if (res.status === 400) {
      const refusal = await res.json();
      return callback(new ValidationError('invalid_password', (refusal.violations || []).map((v) => v.message).join(' ') || refusal.error_description));
    }
    if (res.status !== 204) return callback(new Error(`reset-password answered ${res.status}`));
    return callback(null, true);
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
