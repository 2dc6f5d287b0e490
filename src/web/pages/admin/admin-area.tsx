import { Navigate, Route, Routes } from 'react-router-dom';
import { AdminAppointments } from './admin-appointments.js';
import { AdminAudit } from './admin-audit.js';
import { AdminOutbox } from './admin-outbox.js';
import { AdminRooms } from './admin-rooms.js';
import { AdminUsers } from './admin-users.js';

/** The practice's IT admin: accounts, appointments, rooms' metadata and the audit trail. */
export function AdminArea() {
  return (
    <Routes>
      <Route index element={<Navigate to="users" replace />} />
      <Route path="users" element={<AdminUsers />} />
      <Route path="appointments" element={<AdminAppointments />} />
      <Route path="rooms" element={<AdminRooms />} />
      <Route path="audit" element={<AdminAudit />} />
      <Route path="outbox" element={<AdminOutbox />} />
      <Route path="*" element={<Navigate to="users" replace />} />
    </Routes>
  );
}
