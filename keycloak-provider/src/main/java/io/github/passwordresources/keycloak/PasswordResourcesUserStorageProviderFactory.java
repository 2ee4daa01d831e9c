package io.github.passwordresources.keycloak;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Clock;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;
import org.keycloak.component.ComponentModel;
import org.keycloak.component.ComponentValidationException;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;
import org.keycloak.models.utils.KeycloakModelUtils;
import org.keycloak.provider.ProviderConfigProperty;
import org.keycloak.provider.ProviderConfigurationBuilder;
import org.keycloak.storage.UserStorageProviderFactory;
import org.keycloak.storage.UserStorageProviderModel;
import org.keycloak.storage.user.ImportSynchronization;
import org.keycloak.storage.user.SynchronizationResult;

/**
 * The "password-resources" user storage provider: Keycloak checks and sets the
 * passwords of its users through the password-resources service. Configured
 * per realm in the admin console (User federation) or with {@code kcadm.sh}.
 * "Synchronize all users" links the realm's existing users that the service
 * has (same id; a migrated user) and imports the rest.
 */
public final class PasswordResourcesUserStorageProviderFactory
        implements UserStorageProviderFactory<PasswordResourcesUserStorageProvider>, ImportSynchronization {

    public static final String PROVIDER_ID = "password-resources";
    private static final Logger LOG = Logger.getLogger(PasswordResourcesUserStorageProviderFactory.class);
    private static final int SYNC_PAGE = 100;

    /** One client (HTTP connections and a cached token) per component and settings. */
    private final Map<String, ServiceClient> clients = new ConcurrentHashMap<>();

    @Override
    public String getId() {
        return PROVIDER_ID;
    }

    @Override
    public String getHelpText() {
        return "Passwords kept by the password-resources service: Keycloak's login, account console and admin reset-password check and set them there.";
    }

    @Override
    public List<ProviderConfigProperty> getConfigProperties() {
        return ProviderConfigurationBuilder.create()
                .property().name(ProviderSettings.SERVICE_URL).label("Service URL").type(ProviderConfigProperty.STRING_TYPE)
                .helpText("Where Keycloak reaches the password-resources service, e.g. http://password-resources:8080").required(true).add()
                .property().name(ProviderSettings.SERVICE_REALM).label("Realm at the service").type(ProviderConfigProperty.STRING_TYPE)
                .helpText("The realm's name at the service; default: this realm's name").add()
                .property().name(ProviderSettings.KEYCLOAK_URL).label("Keycloak URL").type(ProviderConfigProperty.STRING_TYPE)
                .helpText("Where the provider reaches this Keycloak for its client-credentials token, e.g. http://localhost:8080").required(true).add()
                .property().name(ProviderSettings.CLIENT_ID).label("Client ID").type(ProviderConfigProperty.STRING_TYPE)
                .helpText("A confidential client of this realm whose service account holds the login-check role and realm-management's view-users and manage-users").required(true).add()
                .property().name(ProviderSettings.CLIENT_SECRET).label("Client secret").type(ProviderConfigProperty.PASSWORD).secret(true)
                .helpText("That client's secret").required(true).add()
                .property().name(ProviderSettings.TIMEOUT_MS).label("Timeout (ms)").type(ProviderConfigProperty.STRING_TYPE)
                .defaultValue(String.valueOf(ProviderSettings.DEFAULT_TIMEOUT_MS))
                .helpText("Each call's deadline; a login with the service away is refused after it").add()
                .build();
    }

    @Override
    public void validateConfiguration(KeycloakSession session, RealmModel realm, ComponentModel config) throws ComponentValidationException {
        try {
            settings(config, realm.getName());
        } catch (ProviderSettings.InvalidSettingException e) {
            throw new ComponentValidationException(e.getMessage());
        }
    }

    @Override
    public PasswordResourcesUserStorageProvider create(KeycloakSession session, ComponentModel model) {
        return new PasswordResourcesUserStorageProvider(session, model, clientFor(model, session.getContext().getRealm().getName()));
    }

    private static ProviderSettings settings(ComponentModel model, String realm) {
        return ProviderSettings.from(model::get, realm);
    }

    private ServiceClient clientFor(ComponentModel model, String realm) {
        ProviderSettings settings = settings(model, realm);
        ServiceClient client = clients.compute(model.getId(), (id, existing) -> existing != null && existing.settings().equals(settings) ? existing : new ServiceClient(settings, Clock.systemUTC()));
        return client;
    }

    @Override
    public SynchronizationResult sync(KeycloakSessionFactory sessionFactory, String realmId, UserStorageProviderModel model) {
        SynchronizationResult result = new SynchronizationResult();
        String realmName = KeycloakModelUtils.runJobInTransactionWithResult(sessionFactory, session -> session.realms().getRealm(realmId).getName());
        ServiceClient service = clientFor(model, realmName);
        for (int first = 0; ; first += SYNC_PAGE) {
            List<JsonNode> page = service.listUsers(first, SYNC_PAGE);
            for (JsonNode user : page) {
                try {
                    boolean existed = KeycloakModelUtils.runJobInTransactionWithResult(sessionFactory, session -> {
                        RealmModel realm = session.realms().getRealm(realmId);
                        session.getContext().setRealm(realm);
                        UserModel before = session.users().getUserById(realm, user.path("id").asText());
                        PasswordResourcesUserStorageProvider.importUser(session, realm, model, service, user);
                        return before != null;
                    });
                    if (existed) result.increaseUpdated();
                    else result.increaseAdded();
                } catch (RuntimeException e) {
                    LOG.warnf("password-resources: user %s not synchronized: %s", user.path("id").asText(), e.getMessage());
                    result.increaseFailed();
                }
            }
            if (page.size() < SYNC_PAGE) break;
        }
        LOG.infof("password-resources: synchronized realm %s: %s", realmName, result.getStatus());
        return result;
    }

    @Override
    public SynchronizationResult syncSince(Date lastSync, KeycloakSessionFactory sessionFactory, String realmId, UserStorageProviderModel model) {
        return sync(sessionFactory, realmId, model);
    }
}
