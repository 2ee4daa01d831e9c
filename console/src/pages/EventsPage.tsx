/** The realm's events and admin events (or one user's events), filtered by type and day. */
import { useCallback, useState } from 'react';
import type { ReactNode } from 'react';
import { Button, Form, Tab, TabList, TabPanel, Tabs } from 'react-aria-components';
import type { AdminEvent, EventFilter, UserEvent } from '../api';
import { useConsole } from '../context';
import { Field, formatTime, LoadedView, PageHeading, useLoad } from '../ui';

/** Events per page. */
const PAGE_SIZE = 50;

export function EventsPage(): ReactNode {
  const { config } = useConsole();
  return (
    <>
      <div className="page-heading">
        <PageHeading realm={config.realm}>Events</PageHeading>
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
            <div className="table-wrap">{found.kind === 'user' ? <EventList events={found.events.slice(0, PAGE_SIZE)} columns={USER_EVENT_COLUMNS} empty="No events." /> : <EventList events={found.events.slice(0, PAGE_SIZE)} columns={ADMIN_EVENT_COLUMNS} empty="No admin events." />}</div>
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

/** One column of an events table: its heading, and the text of each event's cell. */
type EventColumn<E> = readonly [heading: string, cell: (event: E) => string];

const USER_EVENT_COLUMNS: readonly EventColumn<UserEvent>[] = [
  ['Time', (event) => formatTime(event.time)],
  ['Type', (event) => event.type],
  ['User', (event) => event.userId ?? ''],
  ['Client', (event) => event.clientId ?? ''],
  ['IP address', (event) => event.ipAddress ?? ''],
  ['Error', (event) => event.error ?? ''],
];

const ADMIN_EVENT_COLUMNS: readonly EventColumn<AdminEvent>[] = [
  ['Time', (event) => formatTime(event.time)],
  ['Operation', (event) => event.operationType],
  ['Resource', (event) => event.resourceType],
  ['Path', (event) => event.resourcePath],
  ['Administrator', (event) => event.authDetails.userId ?? ''],
  ['Error', (event) => event.error ?? ''],
];

/** The events as a plain table (role `table`): data to read, nothing to act on. */
function EventList<E extends { time: number }>({ events, columns, empty }: { events: readonly E[]; columns: readonly EventColumn<E>[]; empty: string }): ReactNode {
  return (
    <table aria-label="Events" className="table">
      <thead>
        <tr>
          {columns.map(([heading]) => (
            <th key={heading} scope="col">
              {heading}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {events.length === 0 ? (
          <tr>
            <td colSpan={columns.length}>{empty}</td>
          </tr>
        ) : null}
        {events.map((event, index) => (
          <tr key={`${event.time}-${index}`}>
            {columns.map(([heading, cell]) => (
              <td key={heading}>{cell(event)}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
