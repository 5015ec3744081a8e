// The dashboard's Content-Security-Policy has no 'unsafe-eval' (see docs/adr/0008). Zod
// compiles object parsers with `new Function` where it may, and its probe for that is reported
// by the browser as a CSP violation even though Zod catches the refusal. Jitless mode skips
// both; the forms validate a handful of fields, where the compiled parser gains nothing.
import { config } from "zod";

config({ jitless: true });
