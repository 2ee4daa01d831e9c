#!/bin/sh
# Give a user a temporary password through Keycloak's admin REST API.
# Written for Keycloak; works against password-resources with only
# KEYCLOAK_URL changed (e.g. http://127.0.0.1:8080).
#
#   KEYCLOAK_URL=https://idp.example REALM=acme USERNAME=alice \
#   TOKEN=<access token with manage-users> NEW_PASSWORD=... ./keycloak-reset-password.sh
set -eu
: "${KEYCLOAK_URL:?}" "${REALM:?}" "${USERNAME:?}" "${TOKEN:?}" "${NEW_PASSWORD:?}"

user_id=$(curl -fsS -G -H "Authorization: Bearer $TOKEN" \
  --data-urlencode "username=$USERNAME" --data-urlencode "exact=true" \
  "$KEYCLOAK_URL/admin/realms/$REALM/users" | jq -r '.[0].id // empty')
[ -n "$user_id" ] || { echo "no user $USERNAME in realm $REALM" >&2; exit 1; }

# The password goes on stdin, never on the command line.
jq -n --arg value "$NEW_PASSWORD" '{type: "password", value: $value, temporary: true}' |
  curl -fsS -X PUT -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \
    --data-binary @- "$KEYCLOAK_URL/admin/realms/$REALM/users/$user_id/reset-password"
echo "temporary password set for $USERNAME ($user_id)"
