package io.github.passwordresources.keycloak;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.function.Function;

/**
 * The provider's settings, as the admin console or {@code kcadm.sh} set them on
 * the component, checked once: every problem names the setting and the fix.
 *
 * @param serviceUrl where Keycloak reaches the password-resources service, e.g. {@code http://password-resources:8080}
 * @param serviceRealm the realm's name at the service (default: the Keycloak realm's)
 * @param keycloakUrl where the provider reaches this Keycloak for its own client-credentials token, e.g. {@code http://localhost:8080}
 * @param keycloakRealm the Keycloak realm the provider serves, whose token endpoint it uses
 * @param clientId the confidential client whose service account holds {@code login-check}, {@code view-users} and {@code manage-users}
 * @param clientSecret that client's secret
 * @param timeout each call's deadline: a login waits no longer before it is refused
 */
public record ProviderSettings(URI serviceUrl, String serviceRealm, URI keycloakUrl, String keycloakRealm, String clientId, String clientSecret, Duration timeout) {

    public static final String SERVICE_URL = "serviceUrl";
    public static final String SERVICE_REALM = "serviceRealm";
    public static final String KEYCLOAK_URL = "keycloakUrl";
    public static final String CLIENT_ID = "clientId";
    public static final String CLIENT_SECRET = "clientSecret";
    public static final String TIMEOUT_MS = "timeoutMs";

    /** Short enough that a login with the service away is refused quickly, long enough for one bcrypt under load. */
    public static final int DEFAULT_TIMEOUT_MS = 3000;

    /** Thrown for a bad setting; the message names it. */
    public static final class InvalidSettingException extends IllegalArgumentException {
        public InvalidSettingException(String message) {
            super(message);
        }
    }

    /**
     * Read the settings from the component's configuration.
     *
     * @param config the component's values by name ({@code null} for an unset one)
     * @param keycloakRealm the Keycloak realm's name, the service realm's default
     */
    public static ProviderSettings from(Function<String, String> config, String keycloakRealm) {
        URI service = url(SERVICE_URL, config.apply(SERVICE_URL));
        URI keycloak = url(KEYCLOAK_URL, config.apply(KEYCLOAK_URL));
        String realm = blankToNull(config.apply(SERVICE_REALM));
        String clientId = required(CLIENT_ID, config.apply(CLIENT_ID), "the confidential client whose service account calls the service");
        String secret = required(CLIENT_SECRET, config.apply(CLIENT_SECRET), "that client's secret (its Credentials tab)");
        String timeout = blankToNull(config.apply(TIMEOUT_MS));
        int ms = DEFAULT_TIMEOUT_MS;
        if (timeout != null) {
            try {
                ms = Integer.parseInt(timeout.trim());
            } catch (NumberFormatException e) {
                ms = -1;
            }
            if (ms < 100 || ms > 60_000) {
                throw new InvalidSettingException(TIMEOUT_MS + ": must be a whole number of milliseconds from 100 to 60000, got \"" + timeout + "\"");
            }
        }
        return new ProviderSettings(service, realm == null ? keycloakRealm : realm, keycloak, keycloakRealm, clientId, secret, Duration.ofMillis(ms));
    }

    /** The same settings from a plain map, for tests and tools. */
    public static ProviderSettings from(Map<String, String> config, String keycloakRealm) {
        return from(config::get, keycloakRealm);
    }

    private static URI url(String name, String value) {
        String given = required(name, value, "an http or https URL");
        try {
            URI uri = URI.create(given.trim().replaceAll("/+$", ""));
            if (("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) && uri.getHost() != null && uri.getQuery() == null) {
                return uri;
            }
        } catch (IllegalArgumentException e) {
            // reported below
        }
        throw new InvalidSettingException(name + ": must be an http or https URL without a query, e.g. http://localhost:8080, got \"" + given + "\"");
    }

    private static String required(String name, String value, String what) {
        String given = blankToNull(value);
        if (given == null) {
            throw new InvalidSettingException(name + ": is required (" + what + ")");
        }
        return given;
    }

    private static String blankToNull(String value) {
        return value == null || value.isBlank() ? null : value;
    }
}
