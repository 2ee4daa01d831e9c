/** Small pieces every page uses: fields, messages, the refusal of an action. */
import { useCallback, useEffect, useState } from 'react';
import type { ReactNode } from 'react';
import { Button, CheckboxButton, CheckboxField, FieldError, Input, Label, SwitchButton, SwitchField, Text, TextField } from 'react-aria-components';
import type { TextFieldProps } from 'react-aria-components';
import { ApiError } from './api';
import type { Violation } from './api';

/** A labelled text field. */
export function Field({ label, description, ...props }: TextFieldProps & { label: string; description?: string }): ReactNode {
  return (
    <TextField {...props} className="field">
      <Label>{label}</Label>
      <Input />
      {description === undefined ? null : <Text slot="description">{description}</Text>}
      <FieldError />
    </TextField>
  );
}

/** A labelled switch (role `switch`). */
export function Toggle({ children, ...props }: { children: string; isSelected: boolean; onChange: (value: boolean) => void; isDisabled?: boolean; isReadOnly?: boolean }): ReactNode {
  return (
    <SwitchField {...props} className="switch-field">
      <SwitchButton className="switch">
        <span className="track" aria-hidden="true">
          <span className="thumb" />
        </span>
        {children}
      </SwitchButton>
    </SwitchField>
  );
}

/** A checkbox of a `CheckboxGroup`, named by its text. */
export function CheckboxItem({ value, children }: { value: string; children: string }): ReactNode {
  return (
    <CheckboxField value={value} className="checkbox-field">
      <CheckboxButton className="react-aria-Checkbox">
        <span className="box" aria-hidden="true" />
        {children}
      </CheckboxButton>
    </CheckboxField>
  );
}

/** An outcome to show: a success (status) or a failure (alert), with the broken rules of a password. */
export type Message = { readonly kind: 'success'; readonly text: string } | { readonly kind: 'failure'; readonly text: string; readonly violations: readonly Violation[] };

/** The message of a page or dialog, and the two ways to set it. */
export function useMessage(): { message: Message | undefined; succeed: (text: string) => void; fail: (error: unknown) => void; clear: () => void } {
  const [message, setMessage] = useState<Message | undefined>();
  const succeed = useCallback((text: string) => {
    setMessage({ kind: 'success', text });
  }, []);
  const fail = useCallback((error: unknown) => {
    setMessage(failureOf(error));
  }, []);
  const clear = useCallback(() => {
    setMessage(undefined);
  }, []);
  return { message, succeed, fail, clear };
}

/** What to tell of an error: the API's refusal as it explains it, anything else as itself. */
export function failureOf(error: unknown): Message {
  if (error instanceof ApiError) return { kind: 'failure', text: error.message, violations: error.violations };
  return { kind: 'failure', text: error instanceof Error ? error.message : String(error), violations: [] };
}

/** A message in a live region: `status` for a success, `alert` for a failure with every broken rule listed. */
export function MessageView({ message }: { message: Message | undefined }): ReactNode {
  if (message === undefined) return null;
  if (message.kind === 'success') {
    return (
      <p role="status" className="message success">
        {message.text}
      </p>
    );
  }
  return (
    <div role="alert" className="message failure">
      <p>{message.text}</p>
      {message.violations.length === 0 ? null : (
        <ul aria-label="Violations">
          {message.violations.map((violation) => (
            <li key={`${violation.policy}:${violation.message}`}>{violation.message}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** A date and time as the administrator's browser writes them. */
export function formatTime(milliseconds: number | undefined): string {
  return milliseconds === undefined || milliseconds === 0 ? '—' : new Date(milliseconds).toLocaleString();
}

/** What `useLoad` holds: loading, the value, or why it failed. */
export type Loaded<T> = { readonly state: 'loading' } | { readonly state: 'done'; readonly value: T } | { readonly state: 'failed'; readonly message: Message };

/** Load `load()` now and on `reload()`, answers to older calls ignored. */
export function useLoad<T>(load: () => Promise<T>): { loaded: Loaded<T>; reload: () => void } {
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: 'loading' });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let current = true;
    load().then(
      (value) => {
        if (current) setLoaded({ state: 'done', value });
      },
      (error: unknown) => {
        if (current) setLoaded({ state: 'failed', message: failureOf(error) });
      },
    );
    return () => {
      current = false;
    };
  }, [load, round]);
  const reload = useCallback(() => {
    setRound((n) => n + 1);
  }, []);
  return { loaded, reload };
}

/** A loaded value, or the state of its loading. */
export function LoadedView<T>({ loaded, children }: { loaded: Loaded<T>; children: (value: T) => ReactNode }): ReactNode {
  if (loaded.state === 'loading') return <p className="muted">Loading…</p>;
  if (loaded.state === 'failed') return <MessageView message={loaded.message} />;
  return children(loaded.value);
}

/**
 * A page's heading: it takes the focus when the page opens (a screen reader
 * then reads where the administrator is) and names the browser's tab.
 */
export function PageHeading({ children, realm }: { children: string; realm: string }): ReactNode {
  useEffect(() => {
    document.title = `${children} · ${realm} · Admin console`;
  }, [children, realm]);
  const focus = useCallback((heading: HTMLHeadingElement | null) => {
    heading?.focus({ preventScroll: true });
  }, []);
  return (
    <h1 tabIndex={-1} ref={focus}>
      {children}
    </h1>
  );
}

/** A dialog form's buttons: its submit (named `submit`, off while `busy`) and one that closes the dialog. */
export function DialogButtons({ submit, busy, close, closeLabel = 'Close' }: { submit: string; busy: boolean; close: () => void; closeLabel?: string }): ReactNode {
  return (
    <div className="actions">
      <Button type="submit" isDisabled={busy}>
        {submit}
      </Button>
      <Button className="react-aria-Button quiet" onPress={close}>
        {closeLabel}
      </Button>
    </div>
  );
}
