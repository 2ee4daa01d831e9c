/** The realm's events and admin events (or one user's events), filtered by type and day. */
import { useCallback, useState } from 'react';
import type { ReactNode } from 'react';
import { Button, Cell, Column, Form, Row, Tab, Table, TableBody, TableHeader, TabList, TabPanel, Tabs } from 'react-aria-components';
import type { AdminEvent, EventFilter, UserEvent } from '../api';
import { useConsole } from '../context';
import { Field, formatTime, LoadedView, useLoad } from '../ui';

/** Events per page. */
const PAGE_SIZE = 50;

export function EventsPage(): ReactNode {
  return (
    <>
      <div className="page-heading">
        <h1>Events</h1>
      </div>
      <Tabs>
        <TabList aria-label="Events">
          <Tab id="user">User events</Tab>
          <Tab id="admin">Admin events</Tab>
        </TabList>
        <TabPanel id="user">
          <EventsTable kind="user" />
        </TabPanel>
        <TabPanel id="admin">
          <EventsTable kind="admin" />
        </TabPanel>
      </Tabs>
    </>
  );
}

type Found = { readonly kind: 'user'; readonly events: readonly UserEvent[] } | { readonly kind: 'admin'; readonly events: readonly AdminEvent[] };

/**
 * Events of the realm (`kind`), or of one user: the filter form, the table,
 * and paging. `type` is the event type (`UPDATE_PASSWORD`, ...) of user
 * events, the operation type (`CREATE`, `UPDATE`, `DELETE`, `ACTION`) of
 * admin events.
 */
export function EventsTable({ kind, user }: { kind: 'user' | 'admin'; user?: string }): ReactNode {
  const { api } = useConsole();
  const [draft, setDraft] = useState({ type: '', dateFrom: '', dateTo: '' });
  const [filter, setFilter] = useState<EventFilter>({ first: 0 });
  const load = useCallback(async (): Promise<Found> => {
    const query = { ...filter, user, max: PAGE_SIZE + 1 };
    return kind === 'user' ? { kind, events: await api.events(query) } : { kind, events: await api.adminEvents(query) };
  }, [api, kind, user, filter]);
  const { loaded } = useLoad(load);
  const first = filter.first ?? 0;
  const apply = (event: { preventDefault(): void }): void => {
    event.preventDefault();
    setFilter({ type: draft.type.trim(), dateFrom: draft.dateFrom, dateTo: draft.dateTo, first: 0 });
  };

  return (
    <>
      <Form onSubmit={apply} className="filters" aria-label="Filter events">
        <Field label="Event type" value={draft.type} onChange={(type) => { setDraft({ ...draft, type }); }} description={kind === 'user' ? 'e.g. UPDATE_PASSWORD' : 'CREATE, UPDATE, DELETE or ACTION'} />
        <Field label="From date" type="date" value={draft.dateFrom} onChange={(dateFrom) => { setDraft({ ...draft, dateFrom }); }} />
        <Field label="To date" type="date" value={draft.dateTo} onChange={(dateTo) => { setDraft({ ...draft, dateTo }); }} />
        <div className="field">
          <Button type="submit">Filter</Button>
        </div>
      </Form>
      <LoadedView loaded={loaded}>
        {(found) => (
          <>
            <div className="table-wrap">{found.kind === 'user' ? <UserEventsTable events={found.events.slice(0, PAGE_SIZE)} /> : <AdminEventsTable events={found.events.slice(0, PAGE_SIZE)} />}</div>
            <div className="paging">
              <Button isDisabled={first === 0} onPress={() => { setFilter({ ...filter, first: Math.max(0, first - PAGE_SIZE) }); }}>
                Previous page
              </Button>
              <span>Page {Math.floor(first / PAGE_SIZE) + 1}</span>
              <Button isDisabled={found.events.length <= PAGE_SIZE} onPress={() => { setFilter({ ...filter, first: first + PAGE_SIZE }); }}>
                Next page
              </Button>
            </div>
          </>
        )}
      </LoadedView>
    </>
  );
}

function UserEventsTable({ events }: { events: readonly UserEvent[] }): ReactNode {
  return (
    <Table aria-label="Events" className="table">
      <TableHeader>
        <Column isRowHeader>Time</Column>
        <Column>Type</Column>
        <Column>User</Column>
        <Column>Client</Column>
        <Column>IP address</Column>
        <Column>Error</Column>
      </TableHeader>
      <TableBody items={events.map((event, index) => ({ ...event, id: index }))} renderEmptyState={() => 'No events.'}>
        {(event) => (
          <Row>
            <Cell>{formatTime(event.time)}</Cell>
            <Cell>{event.type}</Cell>
            <Cell>{event.userId ?? ''}</Cell>
            <Cell>{event.clientId ?? ''}</Cell>
            <Cell>{event.ipAddress ?? ''}</Cell>
            <Cell>{event.error ?? ''}</Cell>
          </Row>
        )}
      </TableBody>
    </Table>
  );
}

function AdminEventsTable({ events }: { events: readonly AdminEvent[] }): ReactNode {
  return (
    <Table aria-label="Events" className="table">
      <TableHeader>
        <Column isRowHeader>Time</Column>
        <Column>Operation</Column>
        <Column>Resource</Column>
        <Column>Path</Column>
        <Column>Administrator</Column>
        <Column>Error</Column>
      </TableHeader>
      <TableBody items={events.map((event, index) => ({ ...event, id: index }))} renderEmptyState={() => 'No admin events.'}>
        {(event) => (
          <Row>
            <Cell>{formatTime(event.time)}</Cell>
            <Cell>{event.operationType}</Cell>
            <Cell>{event.resourceType}</Cell>
            <Cell>{event.resourcePath}</Cell>
            <Cell>{event.authDetails.userId ?? ''}</Cell>
            <Cell>{event.error ?? ''}</Cell>
          </Row>
        )}
      </TableBody>
    </Table>
  );
}
