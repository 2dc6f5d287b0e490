import { useState, type FormEvent } from 'react';
import { fieldProblem } from '../../../shared/text.js';
import type { Role, UserWire } from '../../../shared/wire.js';
import { Dialog, Empty, ErrorState, Loading, PageHeader } from '../../components/ui.js';
import { api, errorMessage } from '../../lib/api.js';
import { useDocumentTitle, useResource } from '../../lib/hooks.js';
import { useSignedIn } from '../../session.js';

const ROLE_LABEL: Record<Role, string> = {
  patient: 'Patient',
  practitioner: 'Practitioner',
  admin: 'Admin',
};

function CreateUser({ onCreated }: { onCreated: () => void }) {
  const [open, setOpen] = useState(false);
  const [role, setRole] = useState<Role>('patient');
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [specialty, setSpecialty] = useState('');
  const [dateOfBirth, setDateOfBirth] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    if (!name.trim() || !email.trim() || !password)
      return setError('Please fill in the name, the email address and a first password.');
    const nameProblem = fieldProblem('name', name);
    if (nameProblem) return setError(`${nameProblem}.`);
    setBusy(true);
    try {
      await api('/api/admin/users', {
        method: 'POST',
        body: {
          role,
          name: name.trim(),
          email: email.trim(),
          password,
          ...(role === 'practitioner' && specialty.trim() ? { specialty: specialty.trim() } : {}),
          ...(role === 'patient' && dateOfBirth ? { dateOfBirth } : {}),
        },
      });
      setOpen(false);
      setName('');
      setEmail('');
      setPassword('');
      setSpecialty('');
      setDateOfBirth('');
      onCreated();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <button type="button" className="button button-primary" onClick={() => setOpen(true)}>
        Create account
      </button>
      <Dialog open={open} title="Create an account" onClose={() => setOpen(false)}>
        <form className="form" onSubmit={(e) => void submit(e)} noValidate>
          <div className="field">
            <label htmlFor="new-role">Role</label>
            <select id="new-role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
              <option value="patient">Patient</option>
              <option value="practitioner">Practitioner</option>
              <option value="admin">Admin</option>
            </select>
          </div>
          <div className="field">
            <label htmlFor="new-name">Full name</label>
            <input id="new-name" value={name} onChange={(e) => setName(e.target.value)} required />
          </div>
          <div className="field">
            <label htmlFor="new-email">Email address</label>
            <input
              id="new-email"
              type="email"
              value={email}
              onChange={(e) => setEmail(e.target.value)}
              required
            />
          </div>
          <div className="field">
            <label htmlFor="new-password">First password</label>
            <input
              id="new-password"
              type="password"
              autoComplete="new-password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              aria-describedby="new-password-hint"
              required
            />
            <p className="hint" id="new-password-hint">
              At least 12 characters. Give it to the person privately.
            </p>
          </div>
          {role === 'practitioner' && (
            <div className="field">
              <label htmlFor="new-specialty">Specialty</label>
              <input
                id="new-specialty"
                value={specialty}
                onChange={(e) => setSpecialty(e.target.value)}
              />
            </div>
          )}
          {role === 'patient' && (
            <div className="field">
              <label htmlFor="new-dob">Date of birth</label>
              <input
                id="new-dob"
                type="date"
                value={dateOfBirth}
                onChange={(e) => setDateOfBirth(e.target.value)}
              />
            </div>
          )}
          {error && (
            <p className="form-error" role="alert">
              {error}
            </p>
          )}
          <div className="dialog-actions">
            <button type="submit" className="button button-primary" disabled={busy}>
              {busy ? 'Creating…' : 'Create account'}
            </button>
            <button type="button" className="button" onClick={() => setOpen(false)}>
              Cancel
            </button>
          </div>
        </form>
      </Dialog>
    </>
  );
}

function ResetPassword({ user, onDone }: { user: UserWire; onDone: (msg: string) => void }) {
  const [open, setOpen] = useState(false);
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api(`/api/admin/users/${encodeURIComponent(user.id)}/password`, {
        method: 'POST',
        body: { password },
      });
      setOpen(false);
      setPassword('');
      onDone(`The password of ${user.name} was reset; their other sessions were signed out.`);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button
        type="button"
        className="button button-small"
        onClick={() => setOpen(true)}
        aria-label={`Reset password of ${user.name}`}
      >
        Reset password
      </button>
      <Dialog
        open={open}
        title={`Reset the password of ${user.name}`}
        onClose={() => setOpen(false)}
      >
        <form className="form" onSubmit={(e) => void submit(e)}>
          <div className="field">
            <label htmlFor={`pw-${user.id}`}>New password</label>
            <input
              id={`pw-${user.id}`}
              type="password"
              autoComplete="new-password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              required
            />
          </div>
          {error && (
            <p className="form-error" role="alert">
              {error}
            </p>
          )}
          <div className="dialog-actions">
            <button type="submit" className="button button-primary" disabled={busy || !password}>
              Set new password
            </button>
            <button type="button" className="button" onClick={() => setOpen(false)}>
              Cancel
            </button>
          </div>
        </form>
      </Dialog>
    </>
  );
}

export function AdminUsers() {
  useDocumentTitle('Users');
  const { user: me } = useSignedIn();
  const [query, setQuery] = useState('');
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const users = useResource((signal) => api<UserWire[]>('/api/admin/users', { signal }), []);

  const setDisabled = async (u: UserWire, disabled: boolean) => {
    setError(null);
    try {
      await api(`/api/admin/users/${encodeURIComponent(u.id)}`, {
        method: 'PATCH',
        body: { disabled },
      });
      setMessage(
        disabled
          ? `${u.name} can no longer sign in; their open sessions were ended.`
          : `${u.name} can sign in again.`,
      );
      users.reload();
    } catch (err) {
      setError(errorMessage(err));
    }
  };

  const q = query.trim().toLowerCase();
  const shown = (users.data ?? []).filter(
    (u) => !q || u.name.toLowerCase().includes(q) || u.email.toLowerCase().includes(q),
  );

  return (
    <section className="page">
      <PageHeader title="Users" actions={<CreateUser onCreated={users.reload} />} />
      <div className="toolbar">
        <div className="field field-inline">
          <label htmlFor="user-search">Search by name or email</label>
          <input
            id="user-search"
            type="search"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
          />
        </div>
      </div>
      <div role="status" aria-live="polite">
        {message && <p className="notice">{message}</p>}
      </div>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {users.loading && !users.data && <Loading label="Loading users…" />}
      {users.error && !users.data ? (
        <ErrorState error={users.error} onRetry={users.reload} />
      ) : null}
      {users.data &&
        (shown.length === 0 ? (
          <Empty title="No users match." />
        ) : (
          <div className="table-wrap">
            <table className="table">
              <caption className="sr-only">Accounts</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Role</th>
                  <th scope="col">Status</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {shown.map((u) => (
                  <tr key={u.id}>
                    <td data-label="Name">
                      <strong>{u.name}</strong>
                      <br />
                      <span className="muted small">{u.email}</span>
                    </td>
                    <td data-label="Role">
                      {ROLE_LABEL[u.role]}
                      {u.specialty ? ` · ${u.specialty}` : ''}
                    </td>
                    <td data-label="Status">
                      <span className={`pill ${u.disabled ? 'pill-declined' : 'pill-accepted'}`}>
                        {u.disabled ? 'Disabled' : 'Active'}
                      </span>
                    </td>
                    <td data-label="Actions">
                      <div className="item-actions">
                        {u.id === me.id ? (
                          <span className="muted small">This is you</span>
                        ) : (
                          <button
                            type="button"
                            className={`button button-small${u.disabled ? '' : ' button-danger'}`}
                            onClick={() => void setDisabled(u, !u.disabled)}
                            aria-label={`${u.disabled ? 'Enable' : 'Disable'} ${u.name}`}
                          >
                            {u.disabled ? 'Enable' : 'Disable'}
                          </button>
                        )}
                        <ResetPassword user={u} onDone={setMessage} />
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
    </section>
  );
}
