package io.github.passwordresources.keycloak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The client against a real HTTP server on 127.0.0.1 that answers as the
 * service and Keycloak's token endpoint do (the Keycloak tests run it against both for real).
 */
class ServiceClientTest {

    private HttpServer server;
    private final AtomicInteger tokenRequests = new AtomicInteger();
    private final ConcurrentLinkedQueue<String> seen = new ConcurrentLinkedQueue<>();
    private volatile int loginStatus = 200;
    private volatile String loginBody = "{\"valid\":false}";
    private volatile long delayMs = 0;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/realms/acme/protocol/openid-connect/token", exchange -> {
            tokenRequests.incrementAndGet();
            String form = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            if (!form.contains("client_secret=s3cret")) {
                answer(exchange, 401, "{\"error\":\"unauthorized_client\"}");
                return;
            }
            answer(exchange, 200, "{\"access_token\":\"token-" + tokenRequests.get() + "\",\"expires_in\":300}");
        });
        server.createContext("/realms/acme/password-resources/login-check", exchange -> {
            seen.add(exchange.getRequestHeaders().getFirst("Authorization") + " " + new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            sleep(delayMs);
            answer(exchange, loginStatus, loginBody);
        });
        server.createContext("/admin/realms/acme/users/u-1/reset-password", exchange -> {
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            if (body.contains("\"value\":\"short\"")) {
                answer(exchange, 400, "{\"error\":\"invalid_password\",\"error_description\":\"The new password breaks the realm's policy.\",\"violations\":[{\"policy\":\"length\",\"message\":\"Use at least 8 characters.\"}]}");
                return;
            }
            seen.add(exchange.getRequestMethod() + " " + body);
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private ServiceClient client(String secret, int timeoutMs) {
        String base = "http://127.0.0.1:" + server.getAddress().getPort();
        return new ServiceClient(ProviderSettings.from(Map.of("serviceUrl", base, "keycloakUrl", base, "clientId", "login", "clientSecret", secret, "timeoutMs", String.valueOf(timeoutMs)), "acme"), Clock.systemUTC());
    }

    @Test
    void answersTheUserAndRequiredActionsOfARightPasswordWithOneCachedToken() {
        loginBody = "{\"valid\":true,\"user\":{\"id\":\"u-1\",\"username\":\"alice\"},\"requiredActions\":[\"UPDATE_PASSWORD\"]}";
        ServiceClient client = client("s3cret", 10_000);
        ServiceClient.LoginCheck first = client.loginCheck("id", "u-1", "correct horse");
        client.loginCheck("id", "u-1", "correct horse");
        assertEquals(ServiceClient.Verdict.VALID, first.verdict());
        assertEquals("alice", first.user().path("username").asText());
        assertEquals(List.of("UPDATE_PASSWORD"), first.requiredActions());
        assertEquals(1, tokenRequests.get());
        assertEquals("Bearer token-1 {\"id\":\"u-1\",\"password\":\"correct horse\"}", seen.peek());
    }

    @Test
    void tellsAWrongPasswordFromALockedUser() {
        ServiceClient client = client("s3cret", 10_000);
        assertEquals(ServiceClient.Verdict.INVALID, client.loginCheck("username", "alice", "wrong").verdict());
        loginStatus = 429;
        loginBody = "{\"error\":\"too_many_failures\",\"error_description\":\"locked\"}";
        assertEquals(ServiceClient.Verdict.LOCKED, client.loginCheck("username", "alice", "wrong").verdict());
    }

    @Test
    void failsClosedWhenTheServiceAnswersWithAServerError() {
        loginStatus = 503;
        loginBody = "{\"error\":\"temporarily_unavailable\",\"error_description\":\"database away\"}";
        ServiceClient.ServiceUnavailableException error = assertThrows(ServiceClient.ServiceUnavailableException.class, () -> client("s3cret", 10_000).loginCheck("id", "u-1", "pw"));
        assertTrue(error.getMessage().contains("503 temporarily_unavailable"), error.getMessage());
    }

    @Test
    void failsClosedWithinTheTimeoutWhenTheServiceHangs() {
        delayMs = 3000;
        long started = System.nanoTime();
        assertThrows(ServiceClient.ServiceUnavailableException.class, () -> client("s3cret", 300).loginCheck("id", "u-1", "pw"));
        long ms = (System.nanoTime() - started) / 1_000_000;
        assertTrue(ms < 2500, "took " + ms + " ms");
    }

    @Test
    void failsClosedWhenNothingListens() throws IOException {
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        String keycloak = "http://127.0.0.1:" + server.getAddress().getPort();
        ServiceClient client = new ServiceClient(ProviderSettings.from(Map.of("serviceUrl", "http://127.0.0.1:" + port, "keycloakUrl", keycloak, "clientId", "login", "clientSecret", "s3cret"), "acme"), Clock.systemUTC());
        assertThrows(ServiceClient.ServiceUnavailableException.class, () -> client.loginCheck("id", "u-1", "pw"));
    }

    @Test
    void failsClosedWhenKeycloakRefusesTheClient() {
        assertThrows(ServiceClient.ServiceUnavailableException.class, () -> client("wrong", 10_000).loginCheck("id", "u-1", "pw"));
    }

    @Test
    void setsAPasswordAndReportsThePolicysRefusalInItsOwnWords() {
        ServiceClient client = client("s3cret", 10_000);
        client.setPassword("u-1", "a long enough one");
        assertEquals("PUT {\"type\":\"password\",\"value\":\"a long enough one\",\"temporary\":false}", seen.peek());
        ServiceClient.PasswordRejectedException error = assertThrows(ServiceClient.PasswordRejectedException.class, () -> client.setPassword("u-1", "short"));
        assertEquals("Use at least 8 characters.", error.getMessage());
    }

    private static void answer(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
        exchange.close();
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
