// The API's types, from the same OpenAPI-generated file the console uses (web/api/schema.d.ts): a contract change
// shows up here as a type error, not on a resident's phone.
import type { components, paths } from '@api/schema'

export type Schemas = components['schemas']
export type Branding = Schemas['PublicBrandingOut']
export type TicketKind = Schemas['TicketKind']
export type Ticket = Schemas['TicketOut']
export type TicketPage = Schemas['TicketPage']
export type TicketIn = Schemas['TicketIn']
export type Location = Schemas['Location']
export type VisitWindow = Schemas['VisitWindow']
export type ResidentEvent = Schemas['ResidentEventOut']
export type Comment = Schemas['CommentOut']
export type Notification = Schemas['NotificationOut']
export type InboxPage = Schemas['InboxPage']
export type ResidentToken = Schemas['ResidentTokenOut']
export type ResidentUnit = Schemas['ResidentUnitOut']
export type Resident = Schemas['ResidentOut']
export type StaffTokens = Schemas['TokensOut']
export type StaffMe = Schemas['StaffMeOut']
export type AttachmentGrant = Schemas['AttachmentUploadOut']
export type AttachmentType = Schemas['AttachmentIn']['content_type']
export type ActionIn = Schemas['ActionIn']
export type Status = Schemas['Status']

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete'
type Json<C> = C extends { content: { 'application/json': infer T } } ? T : void

/** The paths that have ``method``. */
export type PathsWith<M extends Method> = {
  [P in keyof paths]: paths[P] extends Record<M, { responses: unknown }> ? P : never
}[keyof paths]

export type Operation<P extends keyof paths, M extends Method> = paths[P] extends Record<M, infer O> ? O : never

/** The JSON body of the operation's success answer (200, 201 or 202), ``void`` for 204. */
export type Success<O> = O extends { responses: infer R }
  ? 200 extends keyof R ? Json<R[200]> : 201 extends keyof R ? Json<R[201]> : 202 extends keyof R ? Json<R[202]> : void
  : never

export type RequestBody<O> = O extends { requestBody: { content: { 'application/json': infer B } } }
  ? B
  : O extends { requestBody?: { content: { 'application/json': infer B } } }
    ? B
    : never

type PathParams<O> = O extends { parameters: { path: infer P } } ? ([P] extends [never] ? never : P) : never
type QueryParams<O> = O extends { parameters: { query?: infer Q } } ? ([Q] extends [never] ? never : Q) : never

/** What a call takes besides method and path: path and query parameters, a body, extra headers. */
export type CallInit<O> = {
  params?: { path?: PathParams<O>; query?: QueryParams<O> }
  body?: RequestBody<O>
  headers?: Record<string, string>
}
