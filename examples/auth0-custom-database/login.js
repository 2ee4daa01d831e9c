/**
 * Auth0 custom database "Login" script: the password is checked by
 * password-resources' login-check. configuration: SERVICE_URL, REALM,
 * TOKEN_URL, CLIENT_ID, CLIENT_SECRET (see README.md).
 */
async function login(email, password, callback) {
  try {
    const tokenRes = await fetch(configuration.TOKEN_URL, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: configuration.CLIENT_ID, client_secret: configuration.CLIENT_SECRET, audience: configuration.AUDIENCE || '' }),
      signal: AbortSignal.timeout(3000),
    });
    if (!tokenRes.ok) return callback(new Error(`token endpoint answered ${tokenRes.status}`));
    const { access_token: token } = await tokenRes.json();
    const res = await fetch(`${configuration.SERVICE_URL}/realms/${encodeURIComponent(configuration.REALM)}/password-resources/login-check`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: email, password }),
      signal: AbortSignal.timeout(3000),
    });
    if (res.status === 429) return callback(new WrongUsernameOrPasswordError(email, 'too many failures; try again later'));
    // Anything but an answer is an error: Auth0 refuses the login (fail closed).
    if (!res.ok) return callback(new Error(`login-check answered ${res.status}`));
    const check = await res.json();
    if (!check.valid) return callback(new WrongUsernameOrPasswordError(email));
    const { user } = check;
    return callback(null, {
      user_id: user.id,
      username: user.username,
      email: user.email,
      email_verified: user.emailVerified,
      given_name: user.firstName,
      family_name: user.lastName,
      // UPDATE_PASSWORD: the password is temporary or expired; an Action can send the user to change it.
      app_metadata: { required_actions: check.requiredActions },
    });
  } catch (error) {
    return callback(error);
  }
}
