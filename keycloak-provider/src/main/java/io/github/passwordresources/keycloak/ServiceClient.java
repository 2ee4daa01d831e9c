package io.github.passwordresources.keycloak;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The password-resources service as the provider calls it: {@code login-check}
 * for passwords, and the service's admin API (Keycloak's shapes) for users and
 * password changes, each call with a client-credentials token of the realm
 * from Keycloak's own token endpoint, cached until shortly before it expires.
 * Knows nothing of Keycloak's models, so it is tested on its own.
 */
public final class ServiceClient {

    /** What login-check said. */
    public enum Verdict { VALID, INVALID, LOCKED }

    /** The answer to a login check: the user and their required actions when {@link Verdict#VALID}. */
    public record LoginCheck(Verdict verdict, JsonNode user, List<String> requiredActions) {}

    /** The service could not be asked: unreachable, too slow, or answering with a server error. Logins fail closed. */
    public static final class ServiceUnavailableException extends RuntimeException {
        public ServiceUnavailableException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The service refused a new password (its policy); the message is the service's, for the user. */
    public static final class PasswordRejectedException extends RuntimeException {
        public PasswordRejectedException(String message) {
            super(message);
        }
    }

    /** A token is renewed this long before it expires, so none expires on the way. */
    private static final long TOKEN_MARGIN_SECONDS = 30;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final ProviderSettings settings;
    private final HttpClient http;
    private final Clock clock;
    private String token;
    private Instant tokenUntil = Instant.EPOCH;

    public ServiceClient(ProviderSettings settings, Clock clock) {
        this.settings = settings;
        this.clock = clock;
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(settings.timeout()).followRedirects(HttpClient.Redirect.NEVER).build();
    }

    public ProviderSettings settings() {
        return settings;
    }

    /** Ask whether {@code password} is the password of the user with this {@code id} (or {@code username}). */
    public LoginCheck loginCheck(String field, String value, String password) {
        ObjectNode body = JSON.createObjectNode().put(field, value).put("password", password);
        HttpResponse<String> res = send("POST", serviceUri("/realms/" + enc(settings.serviceRealm()) + "/password-resources/login-check"), body);
        if (res.statusCode() == 429) return new LoginCheck(Verdict.LOCKED, null, List.of());
        JsonNode answer = expect(res, 200, "login-check");
        if (!answer.path("valid").asBoolean(false)) return new LoginCheck(Verdict.INVALID, null, List.of());
        return new LoginCheck(Verdict.VALID, answer.path("user"), strings(answer.path("requiredActions")));
    }

    /** The user whose {@code username} or {@code email} is exactly {@code value}, if the service has one. */
    public Optional<JsonNode> findUser(String field, String value) {
        HttpResponse<String> res = send("GET", adminUri("/users?" + field + "=" + enc(value) + "&exact=true"), null);
        JsonNode users = expect(res, 200, "user search");
        for (JsonNode user : users) {
            if (value.equalsIgnoreCase(user.path(field).asText())) return Optional.of(user);
        }
        return Optional.empty();
    }

    /** The user with this id, if the service has one. */
    public Optional<JsonNode> getUser(String id) {
        HttpResponse<String> res = send("GET", adminUri("/users/" + enc(id)), null);
        if (res.statusCode() == 404) return Optional.empty();
        return Optional.of(expect(res, 200, "user"));
    }

    /** A page of the realm's users, by username. */
    public List<JsonNode> listUsers(int first, int max) {
        JsonNode users = expect(send("GET", adminUri("/users?first=" + first + "&max=" + max), null), 200, "user list");
        List<JsonNode> page = new ArrayList<>();
        users.forEach(page::add);
        return page;
    }

    /**
     * Set the user's password (not temporary: Keycloak marks a temporary one by
     * the {@code UPDATE_PASSWORD} required action, sent with {@link #setRequiredActions}).
     *
     * @throws PasswordRejectedException when the service's policy refuses it
     */
    public void setPassword(String id, String password) {
        ObjectNode body = JSON.createObjectNode().put("type", "password").put("value", password).put("temporary", false);
        HttpResponse<String> res = send("PUT", adminUri("/users/" + enc(id) + "/reset-password"), body);
        if (res.statusCode() == 400) {
            JsonNode error = parse(res);
            List<String> messages = new ArrayList<>();
            error.path("violations").forEach(v -> messages.add(v.path("message").asText()));
            throw new PasswordRejectedException(messages.isEmpty() ? error.path("error_description").asText("The password was refused.") : String.join(" ", messages));
        }
        expect(res, 204, "reset-password");
    }

    /** Replace the user's required actions at the service. */
    public void setRequiredActions(String id, List<String> actions) {
        ObjectNode body = JSON.createObjectNode();
        actions.forEach(body.putArray("requiredActions")::add);
        expect(send("PUT", adminUri("/users/" + enc(id)), body), 204, "user update");
    }

    private URI serviceUri(String path) {
        return URI.create(settings.serviceUrl() + path);
    }

    private URI adminUri(String path) {
        return serviceUri("/admin/realms/" + enc(settings.serviceRealm()) + path);
    }

    private HttpResponse<String> send(String method, URI uri, JsonNode body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri)
                .timeout(settings.timeout())
                .header("Authorization", "Bearer " + token())
                .header("Accept", "application/json");
        if (body == null) {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            request.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body.toString()));
        }
        HttpResponse<String> res = exchange(request.build(), method + " " + uri.getPath());
        if (res.statusCode() == 401) {
            // A token revoked or a key rotated before it expired: one fresh token, once.
            synchronized (this) {
                tokenUntil = Instant.EPOCH;
            }
            request.setHeader("Authorization", "Bearer " + token());
            res = exchange(request.build(), method + " " + uri.getPath());
        }
        return res;
    }

    /** The client-credentials token, fetched when the cached one is about to expire. */
    synchronized String token() {
        if (token != null && clock.instant().isBefore(tokenUntil)) return token;
        URI endpoint = URI.create(settings.keycloakUrl() + "/realms/" + enc(settings.keycloakRealm()) + "/protocol/openid-connect/token");
        String form = "grant_type=client_credentials&client_id=" + enc(settings.clientId()) + "&client_secret=" + enc(settings.clientSecret());
        HttpRequest request = HttpRequest.newBuilder(endpoint)
                .timeout(settings.timeout())
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form))
                .build();
        JsonNode answer = expect(exchange(request, "token request"), 200, "Keycloak's token endpoint");
        token = answer.path("access_token").asText();
        tokenUntil = clock.instant().plusSeconds(Math.max(0, answer.path("expires_in").asLong(60) - TOKEN_MARGIN_SECONDS));
        return token;
    }

    private HttpResponse<String> exchange(HttpRequest request, String what) {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new ServiceUnavailableException(what + " to " + request.uri().getHost() + ":" + request.uri().getPort() + " failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ServiceUnavailableException(what + " was interrupted", e);
        }
    }

    private static JsonNode expect(HttpResponse<String> res, int status, String what) {
        if (res.statusCode() != status) {
            JsonNode error = parseQuietly(res.body());
            throw new ServiceUnavailableException(what + " answered " + res.statusCode() + " " + error.path("error").asText("") + ": " + error.path("error_description").asText(""), null);
        }
        return status == 204 ? JSON.createObjectNode() : parse(res);
    }

    private static JsonNode parse(HttpResponse<String> res) {
        try {
            return JSON.readTree(res.body());
        } catch (IOException e) {
            throw new ServiceUnavailableException("the answer to " + res.request().uri().getPath() + " is not JSON", e);
        }
    }

    private static JsonNode parseQuietly(String body) {
        try {
            JsonNode node = JSON.readTree(body == null ? "" : body);
            return node == null ? JSON.createObjectNode() : node;
        } catch (IOException e) {
            return JSON.createObjectNode();
        }
    }

    private static List<String> strings(JsonNode array) {
        List<String> values = new ArrayList<>();
        array.forEach(item -> values.add(item.asText()));
        return values;
    }

    private static String enc(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
