// What a TypeScript client generated from the document (openapi-typescript) must know,
// checked by the compiler (`tsc --strict`): each line marked @ts-expect-error is a
// request the server refuses, and must not compile; every other line must.
import type { components, paths } from "./api";

type Schemas = components["schemas"];
type ProjectQuery = NonNullable<paths["/api/projects"]["get"]["parameters"]["query"]>;

// A list's sort_by and status are the values the server takes.
export const sortBy: ProjectQuery["sort_by"] = "title";
// @ts-expect-error a sort the server refuses
export const badSort: ProjectQuery["sort_by"] = "nonsense";
export const status: ProjectQuery["status"] = "in_progress";
// @ts-expect-error a status projects do not have
export const badStatus: ProjectQuery["status"] = "paid";

// Closed sets of bodies are unions of their values.
export const kind: Schemas["FileUpload"]["kind"] = "blackbook";
// @ts-expect-error not a kind of upload
export const badKind: Schemas["FileUpload"]["kind"] = "photo";
export const decision: Schemas["ReviewIn"]["decision"] = "Rejected";
// @ts-expect-error not a decision
export const badDecision: Schemas["ReviewIn"]["decision"] = "Maybe";

// Free-form objects hold values (not `Record<string, never>`).
export const details: Schemas["ErrorResponse"]["details"] = { field: "title", allowed: ["a"] };
export const restored: Schemas["RestoredOut"]["restored"] = { projects: 1, files: 2 };
// @ts-expect-error rows restored are counted
export const badRestored: Schemas["RestoredOut"]["restored"] = { projects: "one" };

// A page's items are the item schema itself.
export const page: Schemas["Page_ProjectOut"]["data"][number] extends Schemas["ProjectOut"] ? true : false = true;
