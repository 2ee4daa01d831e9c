/** A user's lockout (Keycloak's brute force detection): its state, and unlock. */
import { useCallback, useState } from 'react';
import type { ReactNode } from 'react';
import { Button } from 'react-aria-components';
import type { BruteForceStatus, User } from '../api';
import { useConsole } from '../context';
import { formatTime, LoadedView, MessageView, useLoad, useMessage } from '../ui';

function isLocked(status: BruteForceStatus, now: number): boolean {
  return status.disabled || (status.lockedUntil ?? 0) > now;
}

export function BruteForceTab({ user }: { user: User }): ReactNode {
  const { api, rights } = useConsole();
  const load = useCallback(() => api.bruteForce(user.id), [api, user.id]);
  const { loaded, reload } = useLoad(load);
  const [busy, setBusy] = useState(false);
  // Failures only: the state itself, in its status region, says when the unlock worked.
  const { message, fail, clear } = useMessage();
  const unlock = (): void => {
    clear();
    setBusy(true);
    api
      .unlock(user.id)
      .then(reload, fail)
      .finally(() => {
        setBusy(false);
      });
  };
  return (
    <LoadedView loaded={loaded}>
      {(status) => (
        <div className="form-panel">
          <p role="status" className="lock-state">
            {isLocked(status, Date.now()) ? 'Locked' : 'Not locked'}
          </p>
          <dl className="settings">
            <dt>Failures</dt>
            <dd>{status.numFailures}</dd>
            <dt>Last failure</dt>
            <dd>{formatTime(status.lastFailure)}</dd>
            <dt>Locked until</dt>
            <dd>{status.lockedUntil === undefined ? '—' : formatTime(status.lockedUntil)}</dd>
            <dt>Temporary lockouts</dt>
            <dd>{status.numTemporaryLockouts}</dd>
          </dl>
          <MessageView message={message} />
          {rights.manageUsers ? (
            <div className="actions">
              <Button onPress={unlock} isDisabled={busy}>
                Unlock
              </Button>
            </div>
          ) : null}
        </div>
      )}
    </LoadedView>
  );
}
