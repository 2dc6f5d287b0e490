import { useState } from 'react';
import type { RoomClosedReason, RoomWire } from '../../shared/wire.js';
import { api, errorMessage } from '../lib/api.js';

const REASON: Record<RoomClosedReason, string> = {
  appointment_cancelled: 'This conversation is closed because its appointment was cancelled.',
  appointment_declined: 'This conversation is closed because its appointment was declined.',
  expired: 'This conversation is closed: its appointment was some time ago.',
};

/** Why the composer is off, in a few words, for the composer itself. */
export const closedComposerText = (room: RoomWire): string | null =>
  room.permissions.write ? null : 'New messages are off in a closed conversation.';

/**
 * Shown above the composer of a closed room: why it closed, that the history stays
 * readable, and (to the practitioner, whom the server allows it) a way to reopen it.
 */
export function RoomClosedBanner({
  room,
  onReopened,
}: {
  room: RoomWire;
  onReopened: (room: RoomWire) => void;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (room.status === 'open') return null;
  const reopen = async () => {
    setBusy(true);
    setError(null);
    try {
      onReopened(
        await api<RoomWire>(`/api/rooms/${encodeURIComponent(room.id)}/reopen`, {
          method: 'POST',
        }),
      );
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="room-closed" role="status">
      <p>
        <strong>{REASON[room.closedReason ?? 'expired']}</strong> You can still read it.
        {!room.permissions.reopen && ' To write again, request a new appointment.'}
      </p>
      {room.permissions.reopen && (
        <button
          type="button"
          className="button button-quiet"
          disabled={busy}
          onClick={() => void reopen()}
        >
          Reopen conversation
        </button>
      )}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
