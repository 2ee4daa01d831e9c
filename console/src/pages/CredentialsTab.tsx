/**
 * A user's credentials, as Keycloak's admin console has them: the realm's
 * rules, "Reset password" (Temporary on by default, a generated password
 * shown once), the reset email, a password-change ticket, and deleting a
 * credential.
 */
import { useCallback, useState } from 'react';
import type { ReactNode } from 'react';
import { Button, CheckboxGroup, Dialog, DialogTrigger, Form, Heading, Input, Label, Modal, NumberField } from 'react-aria-components';
import type { RealmSettings, User } from '../api';
import { useConsole } from '../context';
import { describeRule, generatePassword, parsePolicy } from '../password';
import type { Rule } from '../password';
import { CheckboxItem, DialogButtons, Field, formatTime, LoadedView, MessageView, Toggle, useLoad, useMessage } from '../ui';

/** Keycloak's default lifespan of an admin's action link (`actionTokenGeneratedByAdminLifespan`): 12 hours. */
const DEFAULT_LINK_MINUTES = 12 * 60;
/** Keycloak's default lifespan of a password-change ticket, as its tools send it: a day. */
const DEFAULT_TICKET_MINUTES = 24 * 60;

export function CredentialsTab({ user }: { user: User }): ReactNode {
  const { api, rights } = useConsole();
  const loadRealm = useCallback(() => api.realmSettings(), [api]);
  const realm = useLoad(loadRealm);
  const loadCredentials = useCallback(() => api.credentials(user.id), [api, user.id]);
  const credentials = useLoad(loadCredentials);
  const settings = realm.loaded.state === 'done' ? realm.loaded.value : undefined;
  const rules = parsePolicy(settings?.passwordPolicy);

  return (
    <>
      <h2>Password rules</h2>
      <LoadedView loaded={realm.loaded}>{(value) => <RulesList settings={value} rules={rules} />}</LoadedView>
      <h2>Credentials</h2>
      <LoadedView loaded={credentials.loaded}>
        {(list) => (
          <div className="table-wrap">
            <table aria-label="Credentials" className="table">
              <thead>
                <tr>
                  <th scope="col">Type</th>
                  <th scope="col">Created</th>
                  <th scope="col">Temporary</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {list.length === 0 ? (
                  <tr>
                    <td colSpan={4}>No credentials: the user has no password.</td>
                  </tr>
                ) : null}
                {list.map((credential) => (
                  <tr key={credential.id}>
                    <td>{credential.type}</td>
                    <td>{formatTime(credential.createdDate)}</td>
                    <td>{credential.temporary ? 'Yes' : 'No'}</td>
                    <td>{rights.manageUsers ? <DeleteCredential userId={user.id} credentialId={credential.id} onDeleted={credentials.reload} /> : null}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </LoadedView>
      {rights.manageUsers ? (
        <div className="actions">
          <ResetPassword user={user} rules={rules} onSet={credentials.reload} />
          <SendResetEmail user={user} defaultMinutes={settings?.actionTokenGeneratedByAdminLifespan === undefined ? DEFAULT_LINK_MINUTES : Math.round(settings.actionTokenGeneratedByAdminLifespan / 60)} />
          <CreateTicket user={user} />
        </div>
      ) : null}
    </>
  );
}

function RulesList({ settings, rules }: { settings: RealmSettings; rules: readonly Rule[] }): ReactNode {
  if (settings.passwordPolicy === undefined) return <p className="muted">The realm's rules are not shown: reading them needs the view-realm role.</p>;
  if (rules.length === 0) return <p className="muted">The realm sets no rules.</p>;
  return (
    <ul aria-label="Password rules">
      {rules.map((rule) => (
        <li key={`${rule.policy}(${rule.parameter ?? ''})`}>{describeRule(rule)}</li>
      ))}
    </ul>
  );
}

/** A modal dialog opened by a button of the same name, closed by its own Cancel. */
function ActionDialog({ title, children }: { title: string; children: (close: () => void) => ReactNode }): ReactNode {
  return (
    <DialogTrigger>
      <Button>{title}</Button>
      <Modal isDismissable className="modal">
        <Dialog className="dialog">
          {({ close }) => (
            <>
              <Heading slot="title">{title}</Heading>
              {children(close)}
            </>
          )}
        </Dialog>
      </Modal>
    </DialogTrigger>
  );
}

function ResetPassword({ user, rules, onSet }: { user: User; rules: readonly Rule[]; onSet: () => void }): ReactNode {
  return <ActionDialog title="Reset password">{(close) => <ResetPasswordForm user={user} rules={rules} onSet={onSet} close={close} />}</ActionDialog>;
}

function ResetPasswordForm({ user, rules, onSet, close }: { user: User; rules: readonly Rule[]; onSet: () => void; close: () => void }): ReactNode {
  const { api } = useConsole();
  const [password, setPassword] = useState('');
  const [confirmation, setConfirmation] = useState('');
  const [temporary, setTemporary] = useState(true);
  const [generated, setGenerated] = useState<string | undefined>();
  const [copied, setCopied] = useState('');
  const [busy, setBusy] = useState(false);
  const { message, succeed, fail, clear } = useMessage();

  const generate = (): void => {
    clear();
    try {
      const value = generatePassword(rules, (array) => crypto.getRandomValues(array));
      setPassword(value);
      setConfirmation(value);
      setGenerated(value);
      setCopied('');
    } catch (error) {
      fail(error);
    }
  };
  const copy = (): void => {
    if (generated === undefined) return;
    navigator.clipboard.writeText(generated).then(
      () => {
        setCopied('Copied.');
      },
      () => {
        setCopied('The browser refused to copy: select the password and copy it yourself.');
      },
    );
  };
  const save = (event: { preventDefault(): void }): void => {
    event.preventDefault();
    clear();
    if (password !== confirmation) {
      fail(new Error('The password and its confirmation differ.'));
      return;
    }
    setBusy(true);
    api
      .resetPassword(user.id, password, temporary)
      .then(() => {
        setPassword('');
        setConfirmation('');
        setGenerated(undefined);
        succeed(temporary ? 'The password was set. The user must change it at next sign-in.' : 'The password was set.');
        onSet();
      }, fail)
      .finally(() => {
        setBusy(false);
      });
  };

  return (
    <Form onSubmit={save}>
      <Field label="Password" type="password" autoComplete="new-password" value={password} onChange={setPassword} isRequired autoFocus />
      <Field label="Password confirmation" type="password" autoComplete="new-password" value={confirmation} onChange={setConfirmation} isRequired />
      <Toggle isSelected={temporary} onChange={setTemporary}>
        Temporary
      </Toggle>
      <div className="actions">
        <Button className="react-aria-Button quiet" onPress={generate}>
          Generate password
        </Button>
      </div>
      {generated === undefined ? null : (
        <section className="generated" aria-label="Generated password">
          <p>
            Shown once, here only: <code>{generated}</code>
          </p>
          <Button className="react-aria-Button quiet" onPress={copy}>
            Copy
          </Button>{' '}
          <span aria-live="polite">{copied}</span>
        </section>
      )}
      <MessageView message={message} />
      <DialogButtons submit="Save" busy={busy} close={close} />
    </Form>
  );
}

/** Minutes, whole, from 1: a field the keyboard and the tests fill alike. */
function MinutesField({ label, value, onChange }: { label: string; value: number; onChange: (value: number) => void }): ReactNode {
  return (
    <NumberField className="field" value={value} onChange={onChange} minValue={1} maxValue={43_200} step={1} formatOptions={{ useGrouping: false, maximumFractionDigits: 0 }} isRequired>
      <Label>{label}</Label>
      <Input />
    </NumberField>
  );
}

function SendResetEmail({ user, defaultMinutes }: { user: User; defaultMinutes: number }): ReactNode {
  const { api } = useConsole();
  const [actions, setActions] = useState<string[]>(['UPDATE_PASSWORD']);
  const [minutes, setMinutes] = useState(defaultMinutes);
  const [busy, setBusy] = useState(false);
  const { message, succeed, fail, clear } = useMessage();
  const send = (event: { preventDefault(): void }): void => {
    event.preventDefault();
    clear();
    if (actions.length === 0) {
      fail(new Error('Choose at least one action.'));
      return;
    }
    setBusy(true);
    api
      .executeActionsEmail(user.id, actions, minutes * 60)
      .then(() => {
        succeed(`The email is on its way to ${user.email ?? 'the user'}.`);
      }, fail)
      .finally(() => {
        setBusy(false);
      });
  };
  return (
    <ActionDialog title="Send reset email">
      {(close) => (
        <Form onSubmit={send}>
          {user.email === undefined ? <p role="alert" className="message failure">The user has no email address.</p> : <p>To {user.email}.</p>}
          <CheckboxGroup value={actions} onChange={setActions}>
            <Label>Actions</Label>
            <CheckboxItem value="UPDATE_PASSWORD">Update password</CheckboxItem>
          </CheckboxGroup>
          <MinutesField label="Link lifespan (minutes)" value={minutes} onChange={setMinutes} />
          <MessageView message={message} />
          <DialogButtons submit="Send" busy={busy} close={close} />
        </Form>
      )}
    </ActionDialog>
  );
}

function CreateTicket({ user }: { user: User }): ReactNode {
  const { api } = useConsole();
  const [resultUrl, setResultUrl] = useState('');
  const [minutes, setMinutes] = useState(DEFAULT_TICKET_MINUTES);
  const [ticket, setTicket] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const { message, fail, clear } = useMessage();
  const create = (event: { preventDefault(): void }): void => {
    event.preventDefault();
    clear();
    setBusy(true);
    api
      .passwordChangeTicket(user.id, resultUrl.trim() === '' ? undefined : resultUrl.trim(), minutes * 60)
      .then(setTicket, fail)
      .finally(() => {
        setBusy(false);
      });
  };
  return (
    <ActionDialog title="Create password-change ticket">
      {(close) => (
        <Form onSubmit={create}>
          <Field label="Result URL" type="url" value={resultUrl} onChange={setResultUrl} description="Where the user goes after setting the password (optional)." />
          <MinutesField label="Lifespan (minutes)" value={minutes} onChange={setMinutes} />
          <MessageView message={message} />
          {ticket === undefined ? null : (
            <div role="status" className="message success">
              <p>The ticket link, for the user:</p>
              <p className="ticket">
                <a href={ticket} rel="noreferrer">
                  {ticket}
                </a>
              </p>
            </div>
          )}
          <DialogButtons submit="Create" busy={busy} close={close} />
        </Form>
      )}
    </ActionDialog>
  );
}

function DeleteCredential({ userId, credentialId, onDeleted }: { userId: string; credentialId: string; onDeleted: () => void }): ReactNode {
  const { api } = useConsole();
  const [busy, setBusy] = useState(false);
  const { message, fail, clear } = useMessage();
  const remove = (close: () => void) => (): void => {
    clear();
    setBusy(true);
    api
      .deleteCredential(userId, credentialId)
      .then(() => {
        close();
        onDeleted();
      }, fail)
      .finally(() => {
        setBusy(false);
      });
  };
  return (
    <DialogTrigger>
      <Button className="react-aria-Button danger">Delete credential</Button>
      <Modal isDismissable className="modal">
        <Dialog className="dialog" role="alertdialog">
          {({ close }) => (
            <>
              <Heading slot="title">Delete credential</Heading>
              <p>The user will have no password until one is set or they reset it.</p>
              <MessageView message={message} />
              <div className="actions">
                <Button className="react-aria-Button danger" onPress={remove(close)} isDisabled={busy}>
                  Delete
                </Button>
                <Button className="react-aria-Button quiet" onPress={close}>
                  Cancel
                </Button>
              </div>
            </>
          )}
        </Dialog>
      </Modal>
    </DialogTrigger>
  );
}
