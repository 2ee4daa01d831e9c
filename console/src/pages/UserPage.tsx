/** A user's page: details, credentials, lockout and events, one tab each. */
import { useCallback, useState } from 'react';
import type { ReactNode } from 'react';
import { Button, CheckboxGroup, Form, Label, Tab, TabList, TabPanel, Tabs } from 'react-aria-components';
import type { User } from '../api';
import { useConsole } from '../context';
import { CheckboxItem, Field, LoadedView, MessageView, PageHeading, Toggle, useLoad, useMessage } from '../ui';
import { BruteForceTab } from './BruteForceTab';
import { CredentialsTab } from './CredentialsTab';
import { EventsTable } from './EventsPage';

export function UserPage({ id }: { id: string }): ReactNode {
  const { api, config } = useConsole();
  const load = useCallback(() => api.getUser(id), [api, id]);
  const { loaded, reload } = useLoad(load);
  return (
    <LoadedView loaded={loaded}>
      {(user) => (
        <>
          <div className="page-heading">
            <PageHeading realm={config.realm}>{user.username}</PageHeading>
          </div>
          <Tabs>
            <TabList aria-label="User">
              <Tab id="details">Details</Tab>
              <Tab id="credentials">Credentials</Tab>
              <Tab id="brute-force">Brute force</Tab>
              <Tab id="events">Events</Tab>
            </TabList>
            <TabPanel id="details">
              <DetailsTab user={user} onSaved={reload} />
            </TabPanel>
            <TabPanel id="credentials">
              <CredentialsTab user={user} />
            </TabPanel>
            <TabPanel id="brute-force">
              <BruteForceTab user={user} />
            </TabPanel>
            <TabPanel id="events">
              <EventsTable kind="user" user={user.id} />
            </TabPanel>
          </Tabs>
        </>
      )}
    </LoadedView>
  );
}

/** Keycloak's own required actions, by the names its admin console shows; others the user has are shown as they are. */
const REQUIRED_ACTIONS: readonly (readonly [string, string])[] = [
  ['UPDATE_PASSWORD', 'Update password'],
  ['VERIFY_EMAIL', 'Verify email'],
  ['UPDATE_PROFILE', 'Update profile'],
  ['CONFIGURE_TOTP', 'Configure OTP'],
  ['TERMS_AND_CONDITIONS', 'Terms and conditions'],
];

/** One attribute value per row, as an administrator edits them; several rows may share a name (Keycloak's lists). */
interface AttributeRow {
  readonly key: number;
  readonly name: string;
  readonly value: string;
}

let nextRowKey = 0;

function rowsOf(attributes: User['attributes']): AttributeRow[] {
  return Object.entries(attributes ?? {}).flatMap(([name, values]) => values.map((value) => ({ key: nextRowKey++, name, value })));
}

/** The rows as Keycloak's attribute map; rows without a name are left out. */
function attributesOf(rows: readonly { name: string; value: string }[]): Record<string, string[]> {
  const attributes: Record<string, string[]> = {};
  for (const { name, value } of rows) {
    const key = name.trim();
    if (key === '') continue;
    attributes[key] = [...(attributes[key] ?? []), value];
  }
  return attributes;
}

function DetailsTab({ user, onSaved }: { user: User; onSaved: () => void }): ReactNode {
  const { api, rights } = useConsole();
  const readOnly = !rights.manageUsers;
  const [email, setEmail] = useState(user.email ?? '');
  const [firstName, setFirstName] = useState(user.firstName ?? '');
  const [lastName, setLastName] = useState(user.lastName ?? '');
  const [enabled, setEnabled] = useState(user.enabled);
  const [actions, setActions] = useState<string[]>([...user.requiredActions]);
  const [rows, setRows] = useState(() => rowsOf(user.attributes));
  const [busy, setBusy] = useState(false);
  const { message, succeed, fail, clear } = useMessage();
  const known = new Set(REQUIRED_ACTIONS.map(([action]) => action));
  const choices = [...REQUIRED_ACTIONS, ...user.requiredActions.filter((action) => !known.has(action)).map((action) => [action, action] as const)];

  const save = (event: { preventDefault(): void }): void => {
    event.preventDefault();
    setBusy(true);
    clear();
    const text = (value: string): string | null => (value.trim() === '' ? null : value.trim());
    api
      .updateUser(user.id, { email: text(email), firstName: text(firstName), lastName: text(lastName), enabled, requiredActions: actions, attributes: attributesOf(rows) })
      .then(() => {
        succeed('The user was saved.');
        onSaved();
      }, fail)
      .finally(() => {
        setBusy(false);
      });
  };
  const setRow = (key: number, change: Partial<AttributeRow>): void => {
    setRows((old) => old.map((row) => (row.key === key ? { ...row, ...change } : row)));
  };

  return (
    <Form onSubmit={save} className="form-panel">
      <Field label="Email" type="email" value={email} onChange={setEmail} isReadOnly={readOnly} />
      <Field label="First name" value={firstName} onChange={setFirstName} isReadOnly={readOnly} />
      <Field label="Last name" value={lastName} onChange={setLastName} isReadOnly={readOnly} />
      <Toggle isSelected={enabled} onChange={setEnabled} isReadOnly={readOnly}>
        Enabled
      </Toggle>
      <CheckboxGroup value={actions} onChange={setActions} isReadOnly={readOnly}>
        <Label>Required actions</Label>
        {choices.map(([action, label]) => (
          <CheckboxItem key={action} value={action}>{label}</CheckboxItem>
        ))}
      </CheckboxGroup>
      <fieldset className="attributes">
        <legend>Attributes</legend>
        {rows.length === 0 ? <p className="muted">No attributes.</p> : null}
        {rows.map((row) => (
          <div className="attribute" key={row.key}>
            <Field label="Attribute name" value={row.name} onChange={(name) => { setRow(row.key, { name }); }} isReadOnly={readOnly} />
            <Field label="Attribute value" value={row.value} onChange={(value) => { setRow(row.key, { value }); }} isReadOnly={readOnly} />
            {readOnly ? null : (
              <Button className="react-aria-Button quiet" aria-label={`Remove attribute ${row.name}`} onPress={() => { setRows((old) => old.filter((other) => other.key !== row.key)); }}>
                Remove
              </Button>
            )}
          </div>
        ))}
        {readOnly ? null : (
          <Button className="react-aria-Button quiet" onPress={() => { setRows((old) => [...old, { key: nextRowKey++, name: '', value: '' }]); }}>
            Add attribute
          </Button>
        )}
      </fieldset>
      <MessageView message={message} />
      {readOnly ? null : (
        <div className="actions">
          <Button type="submit" isDisabled={busy}>
            Save
          </Button>
        </div>
      )}
    </Form>
  );
}
