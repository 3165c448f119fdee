// The example console: register (with the code from the sandbox outbox), sign in, see the account and
// its sessions, start a face verification. Plain DOM; every API call goes through `request` (client.ts)
// with a document generated from src/operations/*.graphql, and every mutation's `errors` through
// `showErrors`, typed by the one UserErrorFields fragment.
import { createClient, RequestError } from "./client";
import { type FragmentType, getFragmentData } from "./gql/fragment-masking";
import {
  AccountRegisterDocument,
  type AgreementAcceptanceInput,
  AgreementsDocument,
  type DocumentType,
  UserErrorFieldsFragmentDoc,
  type UserErrorFieldsFragment,
  PersonalVerificationFaceStartDocument,
  SessionCreateByPasswordDocument,
  SessionDeleteDocument,
  type SignInMethod,
  type VerificationAgreementInput,
  VerificationCodeSendDocument,
  type ViewerQuery,
  ViewerDocument,
} from "./gql/graphql";

// --- configuration: the API's origin from `?api=` ---------------------------------------------------------

const DEFAULT_API = "http://127.0.0.1:8000";
const TOKEN_KEY = "account-center-example.token";

function apiBase(): URL {
  const given = new URLSearchParams(location.search).get("api") ?? DEFAULT_API;
  const url = new URL(given.endsWith("/") ? given : `${given}/`);
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new Error(`?api= must be an http(s) URL, not ${given}`);
  }
  return url;
}

const api = apiBase();

// The session's bearer token, for this tab only (sessionStorage). A real console would weigh where to
// keep it against its own XSS exposure; the API never uses cookies.
let token: string | null = sessionStorage.getItem(TOKEN_KEY);

function setToken(value: string | null): void {
  token = value;
  if (value === null) {
    sessionStorage.removeItem(TOKEN_KEY);
  } else {
    sessionStorage.setItem(TOKEN_KEY, value);
  }
}

const request = createClient({
  endpoint: new URL("graphql", api).href,
  token: () => token,
  onRequestId: (id) => {
    text("request-id", id);
  },
});

// --- DOM helpers -----------------------------------------------------------------------------------------

function byId<T extends HTMLElement>(id: string, type: { new (): T }): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) {
    throw new Error(`#${id} is missing or not a ${type.name}`);
  }
  return element;
}

function text(id: string, value: string): void {
  byId(id, HTMLElement).textContent = value;
}

function field(form: HTMLFormElement, name: string): string {
  const input = form.elements.namedItem(name);
  if (!(input instanceof HTMLInputElement || input instanceof HTMLSelectElement)) {
    throw new Error(`${form.id} has no field ${name}`);
  }
  return input.value.trim();
}

function checked(form: HTMLFormElement, name: string): boolean {
  const input = form.elements.namedItem(name);
  return input instanceof HTMLInputElement && input.checked;
}

function when(iso: string | null): string {
  return iso === null ? "" : new Date(iso).toLocaleString();
}

function row(cells: readonly string[]): HTMLTableRowElement {
  const tr = document.createElement("tr");
  for (const cell of cells) {
    const td = document.createElement("td");
    td.textContent = cell;
    tr.append(td);
  }
  return tr;
}

// --- the one error handler ---------------------------------------------------------------------------------

type UserErrors = ReadonlyArray<FragmentType<typeof UserErrorFieldsFragmentDoc>>;

/** The control an error is about: the form's `data-field` that names the longest leading part of the
 * error's input path. `["input", "agreements", "1"]` marks `agreements.1` when the form has it, else
 * `agreements`; a null path (no session, a limit) marks nothing. */
function controlOf(form: HTMLFormElement, error: UserErrorFieldsFragment): Element | null {
  const names = error.path?.slice(1) ?? []; // path[0] is the argument, `input`
  for (let length = names.length; length > 0; length--) {
    const control = form.querySelector(`[data-field="${CSS.escape(names.slice(0, length).join("."))}"]`);
    if (control !== null) return control;
  }
  return null;
}

function describe(error: UserErrorFieldsFragment): string {
  const parts = [error.message];
  if (error.retryAfter !== null) {
    parts.push(`Try again in ${error.retryAfter} s.`);
  }
  if (error.attemptsRemaining !== null) {
    parts.push(`${error.attemptsRemaining} tries left.`);
  }
  return parts.join(" ");
}

function clearErrors(form: HTMLFormElement): void {
  for (const marked of form.querySelectorAll("[aria-invalid]")) {
    marked.removeAttribute("aria-invalid");
  }
  form.querySelector("[data-errors]")?.replaceChildren();
}

/** Every mutation's `errors` come here (the UserErrorFields fragment): each message is listed in the
 * form with its code, the input it is about is marked, and AUTHENTICATION_REQUIRED signs the console
 * out. True when there were errors. */
function showErrors(form: HTMLFormElement, masked: UserErrors): boolean {
  clearErrors(form);
  const errors = getFragmentData(UserErrorFieldsFragmentDoc, masked);
  const list = form.querySelector("[data-errors]");
  for (const error of errors) {
    const item = document.createElement("li");
    item.textContent = describe(error);
    item.dataset.code = error.code;
    list?.append(item);
    controlOf(form, error)?.setAttribute("aria-invalid", "true");
  }
  // One code means "sign in again" whichever mutation answered it.
  if (errors.some((error) => error.code === "AUTHENTICATION_REQUIRED")) {
    signedOut();
  }
  return errors.length > 0;
}

/** Run one action of a form: its buttons are disabled meanwhile, and a request that fails as a whole
 * (network, CORS, top-level GraphQL errors) is shown with its request ID. */
async function run(form: HTMLFormElement, action: () => Promise<void>): Promise<void> {
  const notice = byId("notice", HTMLParagraphElement);
  notice.hidden = true;
  const buttons = [...form.querySelectorAll("button")];
  for (const button of buttons) button.disabled = true;
  try {
    await action();
  } catch (error) {
    notice.textContent =
      error instanceof RequestError
        ? `${error.message}${error.requestId === null ? "" : ` (request ID ${error.requestId})`}`
        : String(error);
    notice.hidden = false;
  } finally {
    for (const button of buttons) button.disabled = false;
  }
}

// --- agreements ----------------------------------------------------------------------------------------

let signUpAgreements: AgreementAcceptanceInput[] = [];
let verificationAgreement: VerificationAgreementInput | null = null;

async function loadAgreements(): Promise<void> {
  const { agreements } = await request(AgreementsDocument);
  const signUp = agreements.filter((a) => a.step === "SIGN_UP");
  signUpAgreements = signUp.map(({ kind, version }) => ({ kind, version }));
  text("signup-agreements", signUp.map((a) => a.title).join(", "));
  const realName = agreements.find((a) => a.kind === "REAL_NAME_VERIFICATION");
  if (realName !== undefined) {
    verificationAgreement = { version: realName.version };
    text("verification-agreement", realName.title);
  }
}

// --- 1. register -------------------------------------------------------------------------------------------

const registerForm = byId("register-form", HTMLFormElement);

byId("send-code", HTMLButtonElement).addEventListener("click", () => {
  void run(registerForm, async () => {
    const phone = field(registerForm, "phone");
    const { verificationCodeSend: sent } = await request(VerificationCodeSendDocument, {
      input: { purpose: "REGISTRATION", phone },
    });
    if (showErrors(registerForm, sent.errors) || sent.sentCode === null) return;
    text("code-sent-to", sent.sentCode.sentTo);
    text("code-expires", when(sent.sentCode.expiresAt));
    const outbox = new URL("sandbox/outbox", api);
    outbox.searchParams.set("to", phone);
    byId("outbox-link", HTMLAnchorElement).href = outbox.href;
    byId("code-sent", HTMLParagraphElement).hidden = false;
  });
});

registerForm.addEventListener("submit", (event) => {
  event.preventDefault();
  void run(registerForm, async () => {
    const username = field(registerForm, "username");
    const { accountRegister: registered } = await request(AccountRegisterDocument, {
      input: {
        username,
        password: field(registerForm, "password"),
        phone: field(registerForm, "phone"),
        code: field(registerForm, "code"),
        agreements: checked(registerForm, "agreements") ? signUpAgreements : [],
      },
    });
    if (showErrors(registerForm, registered.errors) || registered.account === null) return;
    const done = byId("registered", HTMLParagraphElement);
    done.textContent = `Registered ${registered.account.username}, account ID ${registered.account.accountId}. Sign in below.`;
    done.hidden = false;
    const loginName = signInForm.elements.namedItem("loginName");
    if (loginName instanceof HTMLInputElement) loginName.value = username;
  });
});

// --- 2. sign in --------------------------------------------------------------------------------------------

const signInForm = byId("sign-in-form", HTMLFormElement);

signInForm.addEventListener("submit", (event) => {
  event.preventDefault();
  void run(signInForm, async () => {
    const { sessionCreateByPassword: signedIn } = await request(SessionCreateByPasswordDocument, {
      input: { loginName: field(signInForm, "loginName"), password: field(signInForm, "password") },
    });
    if (showErrors(signInForm, signedIn.errors)) return;
    const challenge = byId("challenge", HTMLParagraphElement);
    const result = signedIn.result;
    challenge.hidden = result?.__typename !== "LoginChallenge";
    switch (result?.__typename) {
      case "LoginChallenge":
        // Login protection (AUTH-6) asks for a second factor: sessionCreateByChallenge, not in this example.
        challenge.textContent = `Login protection asks for a second factor (${result.factors.join(", ")}).`;
        return;
      case "SignedIn":
        setToken(result.token);
        break;
      default:
        return;
    }
    await loadViewer();
  });
});

// --- 3. the viewer and its sessions ------------------------------------------------------------------------

// An output enum may gain values without breaking its clients: a value this console does not know yet is
// shown as it comes.
const SIGN_IN_METHODS: Partial<Record<SignInMethod, string>> = {
  PASSWORD: "password",
  SMS: "SMS code",
  QR: "QR code",
};

function showViewer(viewer: NonNullable<ViewerQuery["viewer"]>): void {
  text("viewer-username", viewer.username ?? "(none)");
  text("viewer-account-id", viewer.accountId ?? "(none yet)");
  text("viewer-phone", viewer.phoneMasked);
  const v = viewer.verification;
  text("viewer-verification", v === null ? "not verified" : `${v.status} (${v.method}) ${when(v.verifiedAt)}`.trim());
  text("session-count", String(viewer.sessions.totalCount));
  byId("sessions", HTMLTableSectionElement).replaceChildren(
    ...viewer.sessions.edges.map(({ node: s }) =>
      row([
        when(s.createdAt) + (s.current ? " (this one)" : ""),
        SIGN_IN_METHODS[s.method] ?? s.method,
        s.clientIp ?? "",
        when(s.lastSeenAt),
        when(s.expiresAt),
      ]),
    ),
  );
  byId("attempts", HTMLTableSectionElement).replaceChildren(
    ...viewer.verificationAttempts.edges.map(({ node: a }) =>
      row([when(a.createdAt), a.method, a.nameMasked, a.documentNumberMasked, a.outcome + (a.reason ? ` (${a.reason})` : "")]),
    ),
  );
}

function signedOut(): void {
  setToken(null);
  byId("viewer", HTMLElement).hidden = true;
  byId("face", HTMLElement).hidden = true;
}

async function loadViewer(): Promise<void> {
  const { viewer } = await request(ViewerDocument);
  if (viewer === null) {
    signedOut(); // the session expired, or ended elsewhere
    return;
  }
  showViewer(viewer);
  byId("viewer", HTMLElement).hidden = false;
  byId("face", HTMLElement).hidden = viewer.verification !== null;
}

const signOutForm = byId("sign-out-form", HTMLFormElement);

byId("refresh", HTMLButtonElement).addEventListener("click", () => {
  void run(signOutForm, loadViewer);
});

byId("sign-out", HTMLButtonElement).addEventListener("click", () => {
  void run(signOutForm, async () => {
    const { sessionDelete: ended } = await request(SessionDeleteDocument);
    if (showErrors(signOutForm, ended.errors)) return;
    setToken(null);
    await loadViewer();
  });
});

// --- 4. face verification ----------------------------------------------------------------------------------

// An input enum: the form offers every value, so a document type added to the schema fails the type check
// until it has a label here.
const DOCUMENT_TYPES = {
  MAINLAND_ID_CARD: "Mainland resident identity card",
  HMT_TRAVEL_PERMIT: "Travel permit for Hong Kong, Macao and Taiwan residents",
  FOREIGN_PERMANENT_RESIDENCE_CARD: "Foreigner's permanent residence card",
  CHINESE_PASSPORT_ABROAD: "Passport of a Chinese citizen settled abroad",
} as const satisfies Record<DocumentType, string>;

function isDocumentType(value: string): value is DocumentType {
  return Object.hasOwn(DOCUMENT_TYPES, value);
}

const faceForm = byId("face-form", HTMLFormElement);
byId("document-type", HTMLSelectElement).replaceChildren(
  ...Object.entries(DOCUMENT_TYPES).map(([value, label]) => new Option(label, value)),
);

faceForm.addEventListener("submit", (event) => {
  event.preventDefault();
  void run(faceForm, async () => {
    const documentType = field(faceForm, "documentType");
    if (!isDocumentType(documentType)) throw new Error(`unknown document type ${documentType}`);
    // The schema requires the accepted agreement (RN-6); the form's checkbox is `required`, so the
    // browser does not submit without it.
    if (verificationAgreement === null) throw new Error("the agreements are not loaded yet");
    const { personalVerificationFaceStart: started } = await request(PersonalVerificationFaceStartDocument, {
      input: {
        documentType,
        name: field(faceForm, "name"),
        documentNumber: field(faceForm, "documentNumber"),
        agreement: verificationAgreement,
      },
    });
    if (showErrors(faceForm, started.errors) || started.faceCheckStart === null) return;
    const { url, qrCodeSvg, expiresAt } = started.faceCheckStart.faceCheck;
    const link = byId("face-link", HTMLAnchorElement);
    if (/^https?:\/\//.test(url)) link.href = url; // never a javascript: URL
    byId("face-qr", HTMLImageElement).src = qrCodeSvg.startsWith("data:image/svg+xml") ? qrCodeSvg : "";
    text("face-expires", when(expiresAt));
    byId("face-check", HTMLDivElement).hidden = false;
    await loadViewer();
    byId("face", HTMLElement).hidden = false;
  });
});

// --- start ---------------------------------------------------------------------------------------------------

text("api-url", api.href);
void run(registerForm, async () => {
  await loadAgreements();
  if (token !== null) await loadViewer();
});
