package io.github.passwordresources.keycloak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class ProviderSettingsTest {

    private static Map<String, String> valid() {
        Map<String, String> config = new HashMap<>();
        config.put("serviceUrl", "http://127.0.0.1:8080/");
        config.put("keycloakUrl", "http://localhost:8180");
        config.put("clientId", "password-resources-login");
        config.put("clientSecret", "s3cret");
        return config;
    }

    @Test
    void completesTheDefaults() {
        ProviderSettings settings = ProviderSettings.from(valid(), "acme");
        assertEquals("http://127.0.0.1:8080", settings.serviceUrl().toString());
        assertEquals("acme", settings.serviceRealm());
        assertEquals("acme", settings.keycloakRealm());
        assertEquals(Duration.ofMillis(3000), settings.timeout());
    }

    @Test
    void takesAServiceRealmOfAnotherName() {
        Map<String, String> config = valid();
        config.put("serviceRealm", "acme-passwords");
        assertEquals("acme-passwords", ProviderSettings.from(config, "acme").serviceRealm());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "serviceUrl|ftp://x|serviceUrl: must be an http or https URL without a query, e.g. http://localhost:8080, got \"ftp://x\"",
        "serviceUrl||serviceUrl: is required (an http or https URL)",
        "keycloakUrl|localhost:8080|keycloakUrl: must be an http or https URL without a query, e.g. http://localhost:8080, got \"localhost:8080\"",
        "clientId| |clientId: is required (the confidential client whose service account calls the service)",
        "clientSecret||clientSecret: is required (that client's secret (its Credentials tab))",
        "timeoutMs|50|timeoutMs: must be a whole number of milliseconds from 100 to 60000, got \"50\"",
        "timeoutMs|soon|timeoutMs: must be a whole number of milliseconds from 100 to 60000, got \"soon\"",
    })
    void namesTheBadSettingAndTheFix(String name, String value, String message) {
        Map<String, String> config = valid();
        config.put(name, value);
        ProviderSettings.InvalidSettingException error = assertThrows(ProviderSettings.InvalidSettingException.class, () -> ProviderSettings.from(config, "acme"));
        assertEquals(message, error.getMessage());
    }
}
