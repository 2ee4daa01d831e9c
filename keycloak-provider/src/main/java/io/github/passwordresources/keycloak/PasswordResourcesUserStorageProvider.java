package io.github.passwordresources.keycloak;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.passwordresources.keycloak.ServiceClient.LoginCheck;
import io.github.passwordresources.keycloak.ServiceClient.PasswordRejectedException;
import io.github.passwordresources.keycloak.ServiceClient.ServiceUnavailableException;
import io.github.passwordresources.keycloak.ServiceClient.Verdict;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.jboss.logging.Logger;
import org.keycloak.component.ComponentModel;
import org.keycloak.credential.CredentialInput;
import org.keycloak.credential.CredentialInputUpdater;
import org.keycloak.credential.CredentialInputValidator;
import org.keycloak.credential.CredentialModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.ModelException;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;
import org.keycloak.models.credential.PasswordCredentialModel;
import org.keycloak.models.utils.UserModelDelegate;
import org.keycloak.policy.PasswordPolicyNotMetException;
import org.keycloak.storage.StorageId;
import org.keycloak.storage.UserStorageProvider;
import org.keycloak.storage.user.ImportedUserValidation;
import org.keycloak.storage.user.UserLookupProvider;

/**
 * Keycloak's users whose passwords live in the password-resources service.
 *
 * <p>Users are imported into Keycloak's own database with the service's id
 * (which is Keycloak's id for a migrated user) and a federation link to this
 * component, so tokens keep their {@code sub}. Keycloak keeps no password for
 * them: every check goes to {@code login-check} and every change to the
 * service's admin API. When the service cannot be reached the check fails
 * (a login is refused) and the change throws; there is no local hash to fall
 * back to, and any left from before the link is removed when the user loads.
 */
public final class PasswordResourcesUserStorageProvider
        implements UserStorageProvider, UserLookupProvider, CredentialInputValidator, CredentialInputUpdater, ImportedUserValidation {

    static final String UPDATE_PASSWORD = UserModel.RequiredAction.UPDATE_PASSWORD.name();
    private static final Logger LOG = Logger.getLogger(PasswordResourcesUserStorageProvider.class);

    private final KeycloakSession session;
    private final ComponentModel model;
    private final ServiceClient service;

    PasswordResourcesUserStorageProvider(KeycloakSession session, ComponentModel model, ServiceClient service) {
        this.session = session;
        this.model = model;
        this.service = service;
    }

    @Override
    public void close() {
        // The HTTP client and its token are the factory's, shared by every session.
    }

    // Lookup: called only when Keycloak's own database has no such user; found users are imported.

    @Override
    public UserModel getUserById(RealmModel realm, String id) {
        // Imported users keep plain ids, found in Keycloak's database; "f:" ids are never made here.
        return null;
    }

    @Override
    public UserModel getUserByUsername(RealmModel realm, String username) {
        return lookup(realm, "username", username);
    }

    @Override
    public UserModel getUserByEmail(RealmModel realm, String email) {
        return lookup(realm, "email", email);
    }

    private UserModel lookup(RealmModel realm, String field, String value) {
        Optional<JsonNode> found;
        try {
            found = service.findUser(field, value);
        } catch (ServiceUnavailableException e) {
            LOG.errorf("password-resources: looking up a user by %s failed, so the login is refused: %s", field, e.getMessage());
            return null;
        }
        return found.map(user -> importUser(session, realm, model, service, user)).orElse(null);
    }

    /**
     * Import the service's user into Keycloak's database with the service's id,
     * linked to this component; an unlinked local user of that id (migrated
     * from Keycloak) is linked instead, and its local password removed.
     */
    static UserModel importUser(KeycloakSession session, RealmModel realm, ComponentModel model, ServiceClient service, JsonNode user) {
        String id = user.path("id").asText();
        UserModel found = session.users().getUserById(realm, id);
        UserModel local = found == null ? session.users().addUser(realm, id, user.path("username").asText(), true, false) : unwrap(found);
        local.setFederationLink(model.getId());
        removeLocalPasswords(local);
        copyProfile(local, user, List.of());
        return new ServiceUser(local, service);
    }

    // ImportedUserValidation: every load of a linked user.

    @Override
    public UserModel validate(RealmModel realm, UserModel local) {
        removeLocalPasswords(local);
        return new ServiceUser(local, service);
    }

    /** A password Keycloak kept before the link must never open the account: the service decides alone. */
    static void removeLocalPasswords(UserModel local) {
        List<String> ids = local.credentialManager().getStoredCredentialsByTypeStream(PasswordCredentialModel.TYPE).map(CredentialModel::getId).toList();
        ids.forEach(local.credentialManager()::removeStoredCredentialById);
    }

    static void copyProfile(UserModel local, JsonNode user, List<String> requiredActions) {
        if (user.has("username") && !user.path("username").asText().equals(local.getUsername())) local.setUsername(user.path("username").asText());
        local.setEnabled(user.path("enabled").asBoolean(true));
        // What the service does not keep, Keycloak's copy keeps (its user profile may require names).
        if (user.hasNonNull("email")) local.setEmail(user.path("email").asText());
        if (user.has("emailVerified")) local.setEmailVerified(user.path("emailVerified").asBoolean());
        if (user.hasNonNull("firstName")) local.setFirstName(user.path("firstName").asText());
        if (user.hasNonNull("lastName")) local.setLastName(user.path("lastName").asText());
        List<String> wanted = new ArrayList<>(requiredActions);
        user.path("requiredActions").forEach(action -> wanted.add(action.asText()));
        for (String action : wanted) local.addRequiredAction(action);
        if (!wanted.contains(UPDATE_PASSWORD)) local.removeRequiredAction(UPDATE_PASSWORD);
    }

    // Passwords.

    @Override
    public boolean supportsCredentialType(String credentialType) {
        return PasswordCredentialModel.TYPE.equals(credentialType);
    }

    @Override
    public boolean isConfiguredFor(RealmModel realm, UserModel user, String credentialType) {
        return supportsCredentialType(credentialType);
    }

    @Override
    public boolean isValid(RealmModel realm, UserModel user, CredentialInput input) {
        if (!supportsCredentialType(input.getType()) || input.getChallengeResponse() == null) return false;
        LoginCheck check;
        try {
            check = service.loginCheck("id", StorageId.externalId(user.getId()), input.getChallengeResponse());
        } catch (ServiceUnavailableException e) {
            LOG.errorf("password-resources: login-check for user %s failed, so the login is refused: %s", user.getId(), e.getMessage());
            return false;
        }
        if (check.verdict() == Verdict.LOCKED) LOG.infof("password-resources: user %s is locked out at the service", user.getId());
        if (check.verdict() != Verdict.VALID) return false;
        // The service's word on the profile and what the user must do (UPDATE_PASSWORD for a temporary or expired password).
        copyProfile(unwrap(user), check.user(), check.requiredActions());
        return true;
    }

    @Override
    public boolean updateCredential(RealmModel realm, UserModel user, CredentialInput input) {
        if (!supportsCredentialType(input.getType())) return false;
        try {
            service.setPassword(StorageId.externalId(user.getId()), input.getChallengeResponse());
        } catch (PasswordRejectedException e) {
            throw new PasswordPolicyNotMetException(e.getMessage());
        } catch (ServiceUnavailableException e) {
            LOG.errorf("password-resources: setting the password of user %s failed: %s", user.getId(), e.getMessage());
            throw new ModelException("The password service cannot be reached; the password was not changed. Try again later.");
        }
        return true;
    }

    @Override
    public void disableCredentialType(RealmModel realm, UserModel user, String credentialType) {
        // A password kept by the service cannot be disabled from Keycloak.
    }

    @Override
    public Stream<String> getDisableableCredentialTypesStream(RealmModel realm, UserModel user) {
        return Stream.empty();
    }

    private static UserModel unwrap(UserModel user) {
        return user instanceof ServiceUser service ? service.getDelegate() : user;
    }

    /**
     * A linked user as Keycloak's code sees it: Keycloak marks a temporary
     * password by adding {@code UPDATE_PASSWORD} right after setting it (admin
     * "Reset password" with "Temporary" on), so that required action is sent
     * to the service too, where it makes the password temporary.
     */
    static final class ServiceUser extends UserModelDelegate {
        private final ServiceClient service;

        ServiceUser(UserModel local, ServiceClient service) {
            super(local);
            this.service = service;
        }

        @Override
        public void addRequiredAction(String action) {
            boolean had = getDelegate().getRequiredActionsStream().anyMatch(action::equals);
            super.addRequiredAction(action);
            if (UPDATE_PASSWORD.equals(action) && !had) sync(true);
        }

        @Override
        public void addRequiredAction(RequiredAction action) {
            addRequiredAction(action.name());
        }

        @Override
        public void removeRequiredAction(String action) {
            boolean had = getDelegate().getRequiredActionsStream().anyMatch(action::equals);
            super.removeRequiredAction(action);
            if (UPDATE_PASSWORD.equals(action) && had) sync(false);
        }

        @Override
        public void removeRequiredAction(RequiredAction action) {
            removeRequiredAction(action.name());
        }

        private void sync(boolean updatePassword) {
            String id = StorageId.externalId(getId());
            try {
                JsonNode user = service.getUser(id).orElseThrow(() -> new ModelException("The password service has no user " + id + "."));
                List<String> actions = new ArrayList<>();
                user.path("requiredActions").forEach(a -> actions.add(a.asText()));
                boolean has = actions.contains(UPDATE_PASSWORD);
                if (has == updatePassword) return;
                if (updatePassword) actions.add(UPDATE_PASSWORD);
                else actions.remove(UPDATE_PASSWORD);
                service.setRequiredActions(id, actions);
            } catch (ServiceUnavailableException e) {
                LOG.errorf("password-resources: sending UPDATE_PASSWORD of user %s failed: %s", id, e.getMessage());
                throw new ModelException("The password service cannot be reached; try again later.");
            }
        }
    }
}
