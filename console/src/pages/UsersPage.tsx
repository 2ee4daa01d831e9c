/** Users: search by username, email or name, a page at a time; create one. */
import { useCallback, useEffect, useState } from 'react';
import type { ReactNode } from 'react';
import { Button, Cell, Column, Dialog, DialogTrigger, Form, Heading, Input, Label, Link, Modal, Row, SearchField, Table, TableBody, TableHeader } from 'react-aria-components';
import type { User } from '../api';
import { useConsole } from '../context';
import { hrefOf, navigate } from '../router';
import { DialogButtons, Field, MessageView, PageHeading, Toggle, useMessage } from '../ui';

/** Users per page. */
const PAGE_SIZE = 20;

export function UsersPage(): ReactNode {
  const { api, rights, config } = useConsole();
  const [draft, setDraft] = useState('');
  const [query, setQuery] = useState({ search: '', first: 0 });
  const [found, setFound] = useState<{ users: readonly User[]; more: boolean } | undefined>();
  const { message, fail, clear } = useMessage();

  useEffect(() => {
    let current = true;
    clear();
    // One more than a page: whether there is a next page, without counting.
    api.searchUsers(query.search, query.first, PAGE_SIZE + 1).then(
      (users) => {
        if (current) setFound({ users: users.slice(0, PAGE_SIZE), more: users.length > PAGE_SIZE });
      },
      (error: unknown) => {
        if (current) {
          setFound({ users: [], more: false });
          fail(error);
        }
      },
    );
    return () => {
      current = false;
    };
  }, [api, query, fail, clear]);

  const search = (event: { preventDefault(): void }): void => {
    event.preventDefault();
    setQuery({ search: draft, first: 0 });
  };

  const page = Math.floor(query.first / PAGE_SIZE) + 1;
  return (
    <>
      <div className="page-heading">
        <PageHeading realm={config.realm}>Users</PageHeading>
        {rights.manageUsers ? <CreateUser /> : null}
      </div>
      <form role="search" className="search" onSubmit={search}>
        <SearchField value={draft} onChange={setDraft} className="field">
          <Label>Search users</Label>
          <Input placeholder="Username, email or name" />
        </SearchField>
        <Button type="submit">Search</Button>
      </form>
      <MessageView message={message} />
      <div className="table-wrap">
      {/* Enter on a row opens the user, as its link does. */}
      <Table aria-label="Users" className="table" onRowAction={(id) => { navigate({ page: 'user', id: String(id) }); }}>
        <TableHeader>
          <Column isRowHeader>Username</Column>
          <Column>Email</Column>
          <Column>Name</Column>
          <Column>Status</Column>
        </TableHeader>
        <TableBody items={found?.users ?? []} renderEmptyState={() => (found === undefined ? 'Loading…' : 'No users found.')}>
          {(user) => (
            <Row id={user.id}>
              <Cell>
                <Link href={hrefOf({ page: 'user', id: user.id })}>{user.username}</Link>
              </Cell>
              <Cell>{user.email ?? ''}</Cell>
              <Cell>{[user.firstName, user.lastName].filter(Boolean).join(' ')}</Cell>
              <Cell>{user.enabled ? 'Enabled' : 'Disabled'}</Cell>
            </Row>
          )}
        </TableBody>
      </Table>
      </div>
      <div className="paging">
        <Button isDisabled={query.first === 0} onPress={() => { setQuery({ ...query, first: Math.max(0, query.first - PAGE_SIZE) }); }}>
          Previous page
        </Button>
        <span aria-live="polite">Page {page}</span>
        <Button isDisabled={found?.more !== true} onPress={() => { setQuery({ ...query, first: query.first + PAGE_SIZE }); }}>
          Next page
        </Button>
      </div>
    </>
  );
}

/** "Create user": a dialog; the new user's page on success. */
function CreateUser(): ReactNode {
  const { api } = useConsole();
  const [fields, setFields] = useState({ username: '', email: '', firstName: '', lastName: '' });
  const [enabled, setEnabled] = useState(true);
  const [busy, setBusy] = useState(false);
  const { message, fail, clear } = useMessage();
  const set = useCallback((name: keyof typeof fields) => (value: string) => { setFields((old) => ({ ...old, [name]: value })); }, []);

  const create = (close: () => void) => (event: { preventDefault(): void }): void => {
    event.preventDefault();
    setBusy(true);
    clear();
    const optional = (value: string): string | undefined => (value.trim() === '' ? undefined : value.trim());
    api
      .createUser({ username: fields.username.trim(), email: optional(fields.email), firstName: optional(fields.firstName), lastName: optional(fields.lastName), enabled })
      .then((id) => {
        close();
        navigate({ page: 'user', id });
      }, fail)
      .finally(() => { setBusy(false); });
  };

  return (
    <DialogTrigger>
      <Button>Create user</Button>
      <Modal isDismissable className="modal">
        <Dialog className="dialog">
          {({ close }) => (
            <Form onSubmit={create(close)}>
              <Heading slot="title">Create user</Heading>
              <Field label="Username" value={fields.username} onChange={set('username')} isRequired autoFocus />
              <Field label="Email" type="email" value={fields.email} onChange={set('email')} />
              <Field label="First name" value={fields.firstName} onChange={set('firstName')} />
              <Field label="Last name" value={fields.lastName} onChange={set('lastName')} />
              <Toggle isSelected={enabled} onChange={setEnabled}>Enabled</Toggle>
              <MessageView message={message} />
              <DialogButtons submit="Create" busy={busy} close={close} closeLabel="Cancel" />
            </Form>
          )}
        </Dialog>
      </Modal>
    </DialogTrigger>
  );
}
