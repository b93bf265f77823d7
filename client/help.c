#include "help.h"

#include <stdio.h>
#include <string.h>

#include "offline.h"
#include "rules.h"

/*
 * The one source of scopectl's command documentation: `scopectl --help`
 * lists the synopses, `scopectl help COMMAND` prints one entry, and the
 * COMMANDS section of scopectl(1) is generated from this table at build
 * time (`scopectl help --roff`), so the three cannot drift apart.
 */

enum group { RECORD, READ, VERIFY, OPERATE };

struct cmd_help {
	const char *name;	/* what `scopectl help NAME` takes */
	enum group group;
	const char *synopsis;	/* one or more lines, without "scopectl " */
	const char *text;	/* the description, plain text, paragraphs split by "\n\n" */
	/* the kinds it records, "KIND" or "LABEL=KIND ...": the description
	 * ends with the roles that may record them, from the kind table; "*":
	 * with the list of kinds */
	const char *records;
};

static const struct cmd_help HELP[] = {
	{ "project", RECORD,
	  "project create ID --client NAME --title TEXT --currency CODE --amount AMOUNT\n"
	  "    [--type fixed|tm] [--acceptance-days N] [--payment-days N]\n"
	  "    [--vendor-lead NAME] [--client-lead NAME] [--doc FILE...]",
	  "Creates project ID with its contract value (AMOUNT in the currency's major unit, "
	  "e.g. 3000000 JPY or 1250.50 EUR). --payment-days N (0 to 3650, default 30) are "
	  "the payment terms: an invoice falls due N days after its issue date unless it "
	  "names its own. --doc records the SHA-256 of each contract document.", "project" },
	{ "baseline", RECORD,
	  "baseline add -p ID --item KEY=TEXT... [--doc FILE...] [--rule TEXT]",
	  "Records the next version of the agreed scope: its items by key, the documents "
	  "they come from and the rule for what counts as a change. The client acknowledges "
	  "it with respond --baseline V.", "baseline" },
	{ "change", RECORD,
	  "change raise -p ID TITLE --by NAME --via meeting|phone|email|chat|other\n"
	  "    --reason client_request|design_development|baseline_ambiguity|defect|\n"
	  "             regulatory|vendor_proposal\n"
	  "    [--items KEY,...] [--proceeding] [--occurred TIME]\n"
	  "    [--description TEXT | --text-file F [--encoding E] | --edit]\n"
	  "change assess -p ID CR-N --class in_scope|minor_revision|out_of_scope|unfounded\n"
	  "    --rationale TEXT [--cites SEQ,...]\n"
	  "change reassess -p ID CR-N --class CLASS --rationale TEXT [--cites SEQ,...]\n"
	  "change quote -p ID CR-N --fee AMOUNT --effort-hours H [--tax AMOUNT]\n"
	  "    [--schedule-days D] [--valid-until DATE] [--doc FILE]",
	  "raise records a change request as it is raised, who raised it and how; the ledger "
	  "numbers it CR-N. --proceeding records that work started before approval. "
	  "--text-file must be UTF-8; one in Shift_JIS or EUC-JP is refused with the iconv command "
	  "that converts it, or converted with --encoding shift_jis (any name iconv -l lists). "
	  "Text limits count characters, not bytes. "
	  "assess classifies it against the baseline, citing entries; reassess revisits that "
	  "while no approval depends on it (the status starts again from the new class: an open "
	  "quote is dropped, an out-of-scope change needs a new quote); after approval correct the "
	  "assessment's class instead. quote prices it "
	  "(each quote is a new revision); H may be decimal, to the minute (100.5). Amounts and "
	  "numbers are plain digits: 1500000, not 1,500,000.", "raise=change assess,reassess=assessment quote=quote" },
	{ "respond", RECORD,
	  "respond -p ID (--change CR-N [--quote REV] | --baseline V | --amendment AMD-N |\n"
	  "    --agreement AGR-N | --notice NTC-N)\n"
	  "    --decision approved|rejected|revise|acknowledged|disputed --by NAME [--title TEXT] --via CHANNEL\n"
	  "    [--evidence FILE] [--reason TEXT]",
	  "Records the client's answer to a quote, a baseline version, a contract amendment, an "
	  "agreement (approved confirms it, rejected disputes it) or a notice (acknowledged or "
	  "disputed, the only answers a notice takes), "
	  "who gave it and through which channel; --evidence records the SHA-256 of the message "
	  "or minutes. A lead may record it on the client's behalf (marked so). A quote past its "
	  "valid-until date cannot be approved (record a new revision). An amendment is approved "
	  "(signed) or rejected, once; signing binds its changes at the amounts it lists. Once the "
	  "project has a signatory register, --by must be on it, and an approval within the "
	  "signatory's limit. revise asks for a revised quote of a change (only that: a baseline, "
	  "amendment or agreement is approved or rejected) and needs --reason, what to revise.", "response" },
	{ "amendment", RECORD,
	  "amendment -p ID --changes CR-N,... [--doc FILE...] [--effective DATE] [--title TEXT]",
	  "Groups approved changes into the next contract amendment, AMD-N (the change agreement "
	  "of the METI/IPA model contract), binding each at its approved total as the project's "
	  "status gives it. A change is in at most one amendment that is signed or awaiting its "
	  "answer; the client signs it with respond --amendment AMD-N --decision approved, and a "
	  "rejection frees its changes for a new amendment.", "amendment" },
	{ "signatory", RECORD,
	  "signatory add -p ID NAME --title TEXT [--limit AMOUNT]\n"
	  "signatory remove -p ID NAME [--reason TEXT]",
	  "Keeps the register of who may answer for the client. Once a project has had a "
	  "signatory, every response's --by must be on the register, and a signatory with a "
	  "limit approves only quotes (fee plus tax) and amendments within it. To change a title "
	  "or limit, remove the name and add it again. status lists the register and the "
	  "responses in force given by someone not on it.", "signatory" },
	{ "case", RECORD,
	  "case open -p ID --title TEXT --claimant NAME [--claimant-title T] --via CHANNEL --claim TEXT --demand TEXT "
	  "[--speaks-for-client yes|no|unknown] [--alleged-promise \"WHO|WHEN|CHANNEL|TEXT[|yes|no]\"]... "
	  "[--classification in_contract_fix|additional_order|vague]\n"
	  "case investigate -p ID CASE-N --responsible NAME --checked SEQ|sha256:HASH|file:PATH,... "
	  "[--interview \"NAME|ROLE|SUMMARY\"]... [--finding TEXT]... [--effort-hours H] [--no-record TEXT]...\n"
	  "case determine -p ID CASE-N --facts confirmed|not_confirmed|partly --liable yes|no "
	  "--outcome in_scope_fix|additional_order|goodwill_concession|reject --rationale TEXT [--cites SEQ,...] "
	  "[--open-change TITLE]\n"
	  "case respond -p ID CASE-N (--text TEXT | --text-file F) --channel CHANNEL --from NAME --to NAME "
	  "[--concession TEXT] [--evidence FILE] (--close | --escalate)\n"
	  "case risk -p ID CASE-N [--progress PCT] [--verify]",
	  "A complaint case in four stages, each its own entry naming the case: the intake opens "
	  "CASE-N (what is claimed and demanded, by whom, whether they speak for the client, each "
	  "alleged promise: WHEN may be empty when no date is given, and a fifth part yes says the "
	  "claimant offers evidence, no by default); the investigation names who is responsible, "
	  "the records checked (entries by seq, documents by SHA-256, or file:PATH hashed here), interviews, findings, the "
	  "effort the demand would really take and what was looked for and does not exist; the "
	  "determination is an approver's; the reply says what was answered, by whom to whom, any "
	  "concession and the message's hash, and closes or escalates the case. The stages go in "
	  "that order only; a refusal names the stage the case is at and the command that comes "
	  "next. An escalated case takes a new determination (by a higher approver), then a new "
	  "reply. --open-change on a determination of additional_order opens the change request "
	  "in the same entry (status raised; it is the entry's change member, and the case's "
	  "record names it); its raiser and channel are the intake's claimant and via. case risk "
	  "records nothing: from the status it prints the contract value, the invoiced and paid "
	  "amounts and their share of it, approved but unbilled amounts, open quotes, the lead's "
	  "progress estimate and the case's stage and age. Every role with access to the project "
	  "reads cases (status, report cases, history --case).",
	  "case open=complaint case investigate=investigation case determine=determination case respond=reply" },
	{ "delivery", RECORD,
	  "delivery -p ID --deliverable TEXT [--doc FILE]... [--items A,B] [--changes CR-1,CR-2]",
	  "Records a delivery, DLV-N, for the client's inspection (検収). Its inspection deadline is "
	  "the delivery's time plus the project's acceptance_days; a project without them refuses it "
	  "(set them with scopectl correct -p ID SEQ --set acceptance_days=N). When the deadline passes "
	  "with no outcome, scoped itself records the delivery as deemed passed (author scoped), at "
	  "startup or on its timer (acceptance_check_s).", "delivery" },
	{ "accept", RECORD,
	  "accept -p ID DLV-N --outcome passed|failed --by NAME [--reason TEXT] [--title T] [--via CHANNEL] "
	  "[--evidence FILE]",
	  "Records the client's inspection of a delivery, once, before its deadline. A failure needs "
	  "a --reason of at least 30 characters that says what fails. Recorded by a lead it is taken "
	  "on the client's behalf and unconfirmed until evidence; the signatory register applies as "
	  "for responses.", "accept" },
	{ "agreement", RECORD,
	  "agreement add -p ID --date DATE --kind meeting|call|verbal|change_consultation "
	  "--participants \"NAME|SIDE|TITLE\",... --summary TEXT [--commitment TEXT]... [--cites SEQ,...] "
	  "[--doc FILE]...\n"
	  "agreement confirm -p ID AGR-N --evidence FILE [--description TEXT]\n"
	  "agreement dispute -p ID AGR-N --by NAME --reason TEXT",
	  "Records what was agreed in a meeting, a call or by word (numbered AGR-1, AGR-2, ...; "
	  "SIDE is vendor or client; lead or approver). A change_consultation (変更協議) must list a "
	  "participant from each side. It is unconfirmed until confirm records the SHA-256 of the "
	  "confirming mail or minutes (lead or approver) or the client answers respond "
	  "--agreement AGR-N --decision approved; dispute (lead or approver), or the client's rejection, records "
	  "that the other side contests it. A disputed agreement may still be confirmed later by "
	  "evidence; the dispute stays on record. report agreements --unconfirmed lists those not "
	  "confirmed.", "agreement=agreement confirm=confirmation dispute=contest" },
	{ "notice", RECORD,
	  "notice -p ID --type failure|delay_risk|added_order|spec_change|effort_increase --text TEXT|"
	  "--text-file F [--fee-effect [-]AMOUNT] [--schedule-days [-]D] [--respond-by DATE] "
	  "[--opens-change TITLE] [--cites SEQ,...] [--doc FILE]...",
	  "Records the written notice to the client of an event that changes scope, cost or "
	  "schedule (numbered NTC-1, NTC-2, ...; lead or approver), with its expected effect: a "
	  "negative fee effect lowers the fee, negative days gain time. --opens-change raises a "
	  "change request with that title in the same entry (the notice names it, the change's "
	  "entry is the notice). The client answers respond --notice NTC-N --decision "
	  "acknowledged|disputed (a dispute needs --reason), once; taken by a lead on the client's "
	  "behalf without --evidence the response is unconfirmed. report notices --unacknowledged "
	  "lists those unanswered, overdue first.", "notice" },
	{ "link", RECORD,
	  "link create -p ID (--change CR-N [--quote REV] | --baseline V | --amendment AMD-N | --notice NTC-N | "
	  "--delivery DLV-N | --project) --to NAME [--expires Nd|Nh]\n"
	  "link list -p ID [--json|--csv]\n"
	  "link revoke -p ID LNK-N [--reason TEXT]",
	  "A link lets the client answer one item in a browser, through scoped's portal, without "
	  "a certificate: create makes a random token here (256 bits), records a link entry "
	  "(LNK-N) holding only the token's SHA-256, and prints the URL PORTAL_URL/l/TOKEN once, "
	  "to send by your own mail; nobody can print it again. The link answers exactly that "
	  "item (a change's quote revision, --quote defaulting to the current one; a baseline "
	  "version; an amendment; a notice; a delivery's inspection), once, until it expires "
	  "(--expires, default 7d, at most 90d); --project links to the project's read-only "
	  "record instead (default 90d, at most 400d). With a signatory register, --to must be a "
	  "signatory, and only they answer through it, with their title as the register has it; "
	  "once they leave the register the link answers nothing. A new quote revision, a correction or a "
	  "void of the item supersedes its open links. create refuses, recording nothing, when "
	  "the server reports no portal_url (set portal_listen and portal_url in scoped.conf). "
	  "list shows every link with what it is for, whom, when made, when it expires, its state "
	  "(open, used, expired, revoked, superseded) and the answer's entry (report links); "
	  "revoke ends a link: its page, documents and form answer 410 from then on, as a project "
	  "link's do once it expires; only the receipt of an answer already given through it still "
	  "downloads. An item link past its expiry still shows its item, without the form.",
	  "create=link revoke=revoke" },
	{ "evidence", RECORD,
	  "evidence add -p ID FILE... [--description TEXT] [--media-type TYPE] [--response SEQ]\n"
	  "evidence get -p ID SHA256 -o FILE\n"
	  "evidence -p ID RESPONSE-SEQ FILE [--description TEXT] [--upload]",
	  "add uploads each FILE (a mail, minutes, a photo, a signed form) into the project's "
	  "evidence store on the server, in chunks, and records one evidence entry per file with "
	  "its name, SHA-256, size, media type and description (--response SEQ: evidence for that "
	  "response). The server keeps each file once, by hash, up to max_evidence_mib. get "
	  "fetches a stored file by its SHA-256 into FILE, written only when the bytes match the "
	  "hash. The last form attaches FILE to the response entry RESPONSE-SEQ; without --upload "
	  "only its SHA-256 is recorded, marked held elsewhere. Every --doc FILE and --evidence "
	  "FILE option of the other commands takes --upload too (or the profile's upload = yes): "
	  "the file is stored as well as hashed; without it the entry says the file is held "
	  "elsewhere.", "evidence" },
	{ "invoice", RECORD,
	  "invoice -p ID NUMBER --change CR-N=AMOUNT[:TAX]...\n"
	  "    [--contract AMOUNT[:TAX]] [--issued DATE] [--due DATE]\n"
	  "invoice cancel -p ID NUMBER --reason TEXT",
	  "Records invoice NUMBER billing approved changes, the base contract or both (at "
	  "least one --change or --contract): each line is a fee AMOUNT and, after a colon, its "
	  "TAX (--change CR-1=1500000:150000). The ledger refuses a line beyond what is left of "
	  "the change's approved fee or approved tax, or a --contract fee beyond what is left of "
	  "the contract value, naming what is already invoiced. --issued defaults to today, --due "
	  "to the issue date plus the project's payment terms (project create --payment-days, "
	  "default 30 days); the due date is not before the issue date, and the issue date is "
	  "not in the future (one day's grace for time zones). cancel records a credit note: "
	  "refused while the invoice has payments, its lines go back to their changes and the "
	  "contract (which may be invoiced again under a new number) and reports stop counting "
	  "it.", "invoice=invoice cancel=credit" },
	{ "payment", RECORD,
	  "payment -p ID NUMBER --amount AMOUNT --date DATE",
	  "Records a payment received against invoice NUMBER, at most what is open on it "
	  "(its total, fee plus tax). A DATE in the future is refused (one day's grace for time zones).", "payment" },
	{ "void", RECORD,
	  "void -p ID SEQ --reason TEXT",
	  "Records that entry SEQ was a mistake. Nothing is deleted: the void is itself an "
	  "entry, and reports stop counting the voided one.", "void" },
	{ "correct", RECORD,
	  "correct -p ID SEQ --reason TEXT --set FIELD=VALUE...",
	  "Records a correction of entry SEQ: each FIELD takes VALUE (checked as the field of "
	  "that kind is; amounts in minor units, lists comma-separated, documents as files). "
	  "Fields the ledger assigns and those that say what an entry is about never change; "
	  "the refusal names the remedy. Only those who may record SEQ's kind may correct it. "
	  "The state and every report use the corrected values; history shows the correction "
	  "beside the entry it corrects. A payment recorded in error is corrected to 0. A quote's fee, "
	  "tax and valid-until are corrected only while the quote is open: once the client answered "
	  "it, they are what was answered (record a new revision or a new change). An assessment's "
	  "class is not corrected while an invoice bills the change or an amendment binds it, a "
	  "response's respondent not once the project has a signatory register, and in a closed "
	  "project nothing that counts (amounts, dates, classes) is corrected. "
	  "Roles: those that may record SEQ's kind.", NULL },
	{ "append", RECORD,
	  "append --project P --kind K (--body-json JSON | --body-file F) [--request-id ID]",
	  "Appends one entry of kind K with the given JSON body (FORMAT.md lists the kinds' "
	  "fields); the commands above build these bodies for you. Prints the "
	  "entry's sequence number and leaf hash after reading it back, checking that it is "
	  "the entry sent and checking its inclusion proof.", "*" },
	{ "status", READ,
	  "status PROJECT [--json | --csv | --wide] [--verify]",
	  "The project's contract value, baseline, changes by state, open quotes, approved "
	  "and invoiced amounts (fee, tax and total); the base contract invoiced and paid and "
	  "the payment terms; the signed contract value (the contract and its signed "
	  "amendments) apart from the approved changes in no signed amendment; the amendments "
	  "and their state; the signatory register and the responses given by someone not on "
	  "it; complaint cases not closed, agreements not confirmed in writing, notices not "
	  "answered and open inspection windows; whether the project is closed or cancelled. "
	  "--verify checks the answer instead of trusting the server: it fetches every entry "
	  "of the project with its proof in a verified checkpoint of the size the answer was "
	  "given at, replays them through the same rules as the server, and compares the "
	  "result field by field. Identical: the status is printed and stderr says from how "
	  "many proven entries (--json: a member \"verified\"). Different: exit 1, naming each "
	  "differing field with both values. With a grant for all projects the whole log is "
	  "read, so no entry can have been left out.", NULL },
	{ "report", READ,
	  "report unbilled|exposure|receivables|quotes|cases|acceptance|links [--project P]\n"
	  "    [--as-of DATE] [--open] [--json | --csv | --wide] [--verify]\n"
	  "report agreements [--project P] [--unconfirmed] [--older-than DAYS] [...]\n"
	  "report notices [--project P] [--unacknowledged] [--older-than DAYS] [...]",
	  "unbilled: approved changes not yet invoiced, with the fee, tax and total left to "
	  "invoice, per project and currency. exposure: "
	  "work proceeding without an approved quote. receivables: invoices not fully paid, "
	  "with fee, tax, total, paid and outstanding, aged by due date into current (not yet "
	  "due), 0-30, 31-60, 61-90 and over 90 days overdue, totals per currency; --as-of DATE "
	  "(receivables only) counts to that day, default today. quotes: open quotes with fee, tax, total, "
	  "the date quoted, their age, valid-until and the days left (negative and marked EXPIRED "
	  "once past), soonest expiry first, quotes without a valid-until last. cases: complaint "
	  "cases with their stage, age in days, determination and the change it opened, those "
	  "waiting for an approver's determination (investigated or escalated) first, and the "
	  "count at each stage; --open leaves closed cases out of the table (--json gives them all). acceptance: "
	  "deliveries with their inspection deadline, days left and outcome (passed, failed, deemed "
	  "passed, open), open windows soonest first; --open lists only those. links: the client's links with what each is for, to whom, when it expires and its state "
	  "(open, used, expired, revoked, superseded), as scopectl link list shows them. agreements: every "
	  "agreement with its state and age in days since its date, oldest first; --unconfirmed "
	  "shows those not confirmed (unconfirmed or disputed) older than 3 days, or than "
	  "--older-than DAYS. notices: every notice with its state, age, respond-by date and days "
	  "overdue, overdue first; --unacknowledged shows those unanswered. The filters apply to "
	  "the table and CSV; --json gives the whole report. --verify re-derives the report from the proven entries of every project it covers "
	  "(P, or every project you see) and compares it with the server's, as status --verify "
	  "does; the ages of unbilled changes and of quotes count to the time the server's report gives "
	  "(as_of_us), which must be within 15 minutes of this machine's clock; receivables are "
	  "re-derived for the day asked, which the server's report must name.", NULL },
	{ "dossier", READ,
	  "dossier PROJECT (--change CR-N | --case CASE-N | --all) -o DIR",
	  "Writes a self-contained folder for the client, an auditor or a court: index.html "
	  "and dossier.md tell the story in time order (baseline and confirmation, each change "
	  "with its assessment, quote and answer, agreements and notices, deliveries, the "
	  "complaint's stages, invoices and payments), each step with its time, author, seq "
	  "and leaf hash; entries/ holds each entry (as get --json, with its raw bytes) and its "
	  "inclusion proof in the C2SP tlog-proof format; checkpoint.txt, latest.txt and "
	  "consistency.json the signed checkpoints; files/ and anchors/ the evidence files and "
	  "time-stamp tokens the server holds; FORMAT.md, VERIFY.txt (how to check it by hand) "
	  "and MANIFEST (every file's SHA-256 and size). A change's dossier has what history "
	  "--change shows, a case's what history --case shows, each with the project, its "
	  "baselines and their answers and every entry they cite; --all every entry of the "
	  "project. DIR must not exist (or be empty); it appears only when complete. Check "
	  "it with verify --dossier DIR --trust KEY.", NULL },
	{ "history", READ,
	  "history PROJECT [--change CR-N | --case CASE-N] [--json | --csv | --wide]",
	  "Every entry of a project (or of one change request) in order, with who recorded "
	  "what and when. A change's history has the entries naming it and those citing them: "
	  "evidence of its responses, invoices billing it, payments of those invoices, the "
	  "amendments binding it and their answers, deliveries and notices naming it, voids. An entry "
	  "that was corrected says \"corrected by #N\" under its row, and a correction lists each "
	  "field it sets as old -> new (the value before it: of the entry or of an earlier "
	  "correction). A case's history has its stages and the entries of the change its "
	  "determination opened. --json adds corrected_by (the seqs) to every entry and previous (the old "
	  "values) to a correction, --csv the columns corrected_by and previous. Every page of "
	  "entries is proven in a verified checkpoint before anything is printed. A project or "
	  "change that does not exist is an error (exit 4).", NULL },
	{ "projects", READ,
	  "projects [--json | --csv]",
	  "The projects you see, each with its client, currency, contract value (the "
	  "contract and its approved changes), open changes (raised, assessed, no_charge, "
	  "quoted or revise_requested) and last activity (the time of its latest entry). "
	  "Projects, clients and times come from entries proven in a verified checkpoint "
	  "(the whole log for a grant of all projects, else each granted project's "
	  "entries); values and counts from each project's status.", NULL },
	{ "change-list", READ,
	  "change list -p ID [--state STATE] [--json | --csv] [--verify]",
	  "The project's change requests with their state, class, fee, approved, invoiced "
	  "and paid amounts; --state shows those in one state only (raised, assessed, "
	  "unfounded, no_charge, quoted, revise_requested, rejected, approved, "
	  "approved_no_charge, partly_invoiced, invoiced, paid, withdrawn). --verify re-derives "
	  "the list from proven entries, as status --verify does.", NULL },
	{ "change-show", READ,
	  "change show -p ID CR-N [--json]",
	  "Everything about one change: every field of its state (amounts, class, quote "
	  "revision, dates), then its entries in order, each with its sequence number, whole "
	  "leaf hash and body, with the responses and their evidence, the invoices billing "
	  "it and their payments; each page of entries is proven in a verified checkpoint "
	  "before it is printed. --json: the state as one line, then one line per entry. A "
	  "change that does not exist is an error (exit 4).", NULL },
	{ "log", READ,
	  "log [--project P] [--from A] [--to B] [--json]",
	  "Lists entries A to B, both included (default: from the first to the last "
	  "of the latest verified checkpoint), with their sequence numbers, kinds, authors "
	  "and times; each page is proven in that checkpoint before it is printed.", NULL },
	{ "get", READ,
	  "get SEQ [--tsa-ca FILE] [--json]",
	  "Prints entry SEQ after checking its inclusion proof against a verified "
	  "checkpoint, and the earliest anchored time covering it, as prove does.", NULL },
	{ "receipt", READ,
	  "receipt SEQ -o FILE",
	  "Writes a receipt for entry SEQ, recorded at any time: the entry, its inclusion "
	  "proof and the latest verified checkpoint it is proven in, the same file an order "
	  "command's --receipt writes. Anyone can check it offline with verify --receipt FILE "
	  "--trust KEY.", NULL },
	{ "info", READ,
	  "info [--json]",
	  "The server, its log and verifier key, and who you are to it. For admin and "
	  "auditor also the verified checkpoint and the daemon's counters: connections, "
	  "append latency and commit duration percentiles, refused requests by reason, "
	  "storage map usage.", NULL },
	{ "checkpoint", READ,
	  "checkpoint",
	  "Prints the latest signed checkpoint after checking its signature and its "
	  "consistency with the last one this profile accepted.", NULL },
	{ "prove", READ,
	  "prove SEQ [--size N] [--tsa-ca FILE] [--json]",
	  "Fetches and checks the inclusion proof of entry SEQ in the tree of size N "
	  "(default: the latest). Without --json it also prints the earliest anchored time "
	  "covering the entry, when an anchor covers it: the first anchor entry after SEQ of "
	  "a size beyond SEQ, found among the ledger-level entries after SEQ (read a page at "
	  "a time, each proven), its root proven a prefix of the checkpoint; with --tsa-ca "
	  "FILE (or tsa_ca in the profile) its token is checked against that CA.", NULL },
	{ "consistency", READ,
	  "consistency OLD [NEW] [--json]",
	  "Fetches and checks the proof that the tree of size OLD is a prefix of the tree "
	  "of size NEW (default: the latest).", NULL },
	{ "export", READ,
	  "export [--from A] [--to B] [--format hex|raw] -o FILE",
	  "Writes entries exactly as hashed, for offline verification with verify --export.", NULL },
	{ "verify", VERIFY,
	  "verify [--tsa-ca FILE]\n"
	  "verify --export FILE --checkpoint FILE --trust KEY [--tsa-ca FILE] [--threads N]\n"
	  "verify --proof FILE --checkpoint FILE --trust KEY [--entry FILE]\n"
	  "verify --receipt FILE --trust KEY [--witness VKEY... --quorum N | --policy FILE]\n"
	  "verify --dossier DIR --trust KEY [--checkpoint FILE] [--tsa-ca FILE] [--witness VKEY... --quorum N | --policy FILE]",
	  "Without options: fetches every entry and checks its encoding, sequence, chain "
	  "and the Merkle root against the signed checkpoint. With --export, the same "
	  "offline, decoding and hashing on N threads (default: SCOPE_VERIFY_THREADS, else the "
	  "online CPUs, at most 8; the result and the first bad entry do not depend on N); with --proof, one inclusion proof; with --receipt, a receipt written by "
	  "--receipt or downloaded from the portal (whose page shown must have the entry's "
	  "page_sha256); with --dossier, everything in a dossier: its MANIFEST against the files "
	  "(naming any changed, added or removed since it was written; an entry left out when "
	  "it was written cannot be detected), only a dossier's own names and regular files, "
	  "each entry's bytes against its leaf hash, its tlog-proof and the checkpoint's "
	  "signature, that every entry a held one cites is held, the consistency proof, the "
	  "evidence files' hashes and anchors, and that dossier.md and index.html are what the "
	  "entries say. It checks against the key only and prints the checkpoint's size and "
	  "root to compare with one obtained independently; --checkpoint FILE, a checkpoint "
	  "you hold, must have the same root at the same size (else: a fork). Reports the first entry that does not verify (for a dossier, the first problem "
	  "of each kind). KEY is a verifier key "
	  "(name+id+key) or a file holding one; --trust may be repeated. Each anchor entry's "
	  "root must be the root computed from the entries at its size; with --tsa-ca FILE "
	  "(the time-stamping authority's CA certificates; online also tsa_ca in the "
	  "profile) every anchor token is checked (signature, chain to the CA, imprint "
	  "against that checkpoint, its time) and printed, a bad one exits 1 naming the "
	  "anchor entry; without, the tokens found are counted as not checked. A dossier's "
	  "anchors/ are checked as entries, each root by its consistency proof to the "
	  "dossier's checkpoint, each .tsr against its anchor entry and, with --tsa-ca, whole; "
	  "each entry's anchored time is the earliest anchor covering it. With --witness VKEY "
	  "(a witness's cosignature/v1 key; repeatable) and --quorum N (default: all), a "
	  "receipt's or a dossier's checkpoint (checkpoint.txt) must carry N valid cosignatures: "
	  "each witness is named with the time it cosigned, or as not having cosigned (--json: "
	  "\"cosigners\", each with name, cosigned, time_s and time); short of the quorum it exits 1 "
	  "naming those that did not. --policy FILE, a C2SP tlog-policy file (log, witness, "
	  "group and quorum lines), gives the witnesses and the quorum instead: the checkpoint "
	  "must meet its quorum, and its log lines are the keys trusted (with --trust, each key "
	  "given must be one of them). Without --witness or --policy, the signature lines of keys not "
	  "trusted (witnesses' cosignatures among them) are listed as not verified.", NULL },
	{ "backup", OPERATE,
	  "backup -o FILE",
	  "Streams a consistent, compacted copy of the whole ledger (LMDB) from the running "
	  "server to FILE, checked against the SHA-256 the server reports, and the evidence "
	  "files the ledger holds to FILE.files, each checked against its hash. Restore it with "
	  "scoped restore. Roles: admin or auditor with all projects.", NULL },
};

#define NHELP (sizeof HELP / sizeof HELP[0])

static const char INTRO[] =
	"usage: scopectl [CONNECTION OPTIONS] COMMAND [OPTIONS]\n"
	"       scopectl help COMMAND\n"
	"\n"
	"Connection (every command that talks to scoped): --config FILE (a profile from\n"
	"scoped init; or $SCOPECTL_CONFIG), overridden by --server HOST:PORT, --server-name\n"
	"NAME, --cert FILE, --key FILE, --ca FILE, --trust KEY (repeatable), --witness VKEY\n"
	"(repeatable) and --quorum N: then every checkpoint must carry N witnesses'\n"
	"cosignatures (the profile's witness and quorum lines do the same); a quorum of\n"
	"no more than half of the witnesses draws a warning (the majority rule). Or\n"
	"--policy FILE (a C2SP tlog-policy file; the profile's policy line): its quorum,\n"
	"with the same warning when two disjoint sets of its witnesses could each meet it.\n"
	"--json prints JSON for scripts; --utc prints times in UTC instead of local time with its\n"
	"offset; tables fit 80 columns, cutting long text with \"...\", unless --wide.\n"
	"These may come before or after the command. Every proof and checkpoint received\n"
	"is verified.\n"
	"\n"
	"Times (TIME) are ISO 8601: 2025-06-03T10:30:00+09:00, 2025-06-03T01:30:00Z,\n"
	"2025-06-03T10:30 (local time) or a bare date 2025-06-03 (local midnight). A DATE\n"
	"is YYYY-MM-DD, or such a time whose date as written is taken. Values from a list\n"
	"may be typed with hyphens or capitals (client-request for client_request);\n"
	"currency codes in any case (jpy).\n";

static const char RECORDING[] =
	"Recording (each reads the entry back, checks that it is the one sent and prints\n"
	"it; --receipt FILE keeps the entry, its proof and the signed checkpoint;\n"
	"--request-id ID makes a retry safe):";

static const char *const GROUP_TITLE[] = {
	RECORDING,
	"Reading:",
	"Verifying:",
	"Operating:",
};

static const char OUTRO[] =
	"\n"
	"Options: -h, --help; -V, --version.\n"
	"Exit codes: 0 ok, 1 verification failed, 2 usage, 3 connection/TLS, 4 refused.\n";

static void indent(FILE *f, const char *text, const char *prefix)
{
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		fprintf(f, "%s%.*s\n", prefix, (int)n, p);
		p += n + (nl != NULL);
	}
}

/* plain text wrapped at width columns after prefix */
static void wrap(FILE *f, const char *text, const char *prefix, size_t width)
{
	const char *p = text;
	while (*p) {
		size_t line = 0;
		const char *start = p, *cut = NULL;
		while (p[line] && line < width) {
			if (p[line] == ' ')
				cut = p + line;
			line++;
		}
		if (p[line] == '\0' || cut == NULL)
			cut = p + line;
		fprintf(f, "%s%.*s\n", prefix, (int)(cut - start), start);
		p = *cut == ' ' ? cut + 1 : cut;
	}
}

void help_usage(FILE *f)
{
	fputs(INTRO, f);
	for (int g = RECORD; g <= OPERATE; g++) {
		fprintf(f, "\n%s\n", GROUP_TITLE[g]);
		for (size_t i = 0; i < NHELP; i++)
			if (HELP[i].group == (enum group)g)
				indent(f, HELP[i].synopsis, "  ");
	}
	fputs("\nscopectl help COMMAND describes one command; man scopectl describes them all.\n", f);
	fputs(OUTRO, f);
}

/* The description: the text, then for a command that records, the roles
 * that may record its kinds ("Roles: lead, client." or "Roles: raise lead;
 * assess approver."), or for append the kinds there are. */
static const char *describe(const struct cmd_help *h, char *out, size_t n)
{
	if (h->records == NULL)
		return h->text;
	if (strcmp(h->records, "*") == 0) {
		char kinds[RULES_KINDS_MAX];
		rules_kinds(kinds, sizeof kinds);
		snprintf(out, n, "%s Kinds: %s.", h->text, kinds);
		return out;
	}
	size_t len = (size_t)snprintf(out, n, "%s Roles: ", h->text);
	for (const char *p = h->records; *p && len < n;) {
		size_t w = strcspn(p, " ");
		const char *eq = memchr(p, '=', w);
		const char *kind = eq ? eq + 1 : p;
		char roles[96];
		roles_text(rules_writers(kind, (size_t)(p + w - kind)), roles, sizeof roles);
		int r = snprintf(out + len, n - len, "%s%.*s%s%s", p == h->records ? "" : "; ", eq ? (int)(eq - p) : 0, p,
				 eq ? " " : "", roles);
		len += r > 0 ? (size_t)r : 0;
		p += w + (p[w] == ' ');
	}
	if (len + 1 < n)
		strcat(out, ".");
	return out;
}

static const struct cmd_help *find(const char *name)
{
	for (size_t i = 0; i < NHELP; i++)
		if (strcmp(HELP[i].name, name) == 0)
			return &HELP[i];
	return NULL;
}

/* roff: escape backslashes and leading dots/quotes */
static void roff_line(FILE *f, const char *p, size_t n)
{
	if (n && (p[0] == '.' || p[0] == '\''))
		fputs("\\&", f);
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\\')
			fputs("\\e", f);
		else if (p[i] == '-')
			fputs("\\-", f);
		else
			fputc(p[i], f);
	}
	fputc('\n', f);
}

static void roff(FILE *f)
{
	for (int g = RECORD; g <= OPERATE; g++) {
		static const char *const SS[] = { "Recording", "Reading", "Verifying", "Operating" };
		fprintf(f, ".SS %s\n", SS[g]);
		for (size_t i = 0; i < NHELP; i++) {
			if (HELP[i].group != (enum group)g)
				continue;
			fputs(".PP\n.nf\n", f);
			for (const char *p = HELP[i].synopsis; *p;) {
				const char *nl = strchr(p, '\n');
				size_t n = nl ? (size_t)(nl - p) : strlen(p);
				fputs(p[0] == ' ' ? "         " : "\\fBscopectl\\fR ", f);
				roff_line(f, p, n);
				p += n + (nl != NULL);
			}
			fputs(".fi\n.RS\n", f);
			char text[2048];
			const char *d = describe(&HELP[i], text, sizeof text);
			roff_line(f, d, strlen(d));
			fputs(".RE\n", f);
		}
	}
}

int help_main(int argc, char **argv)
{
	if (argc < 2) {
		help_usage(stdout);
		return CTL_EXIT_OK;
	}
	if (strcmp(argv[1], "--roff") == 0) {
		roff(stdout);
		return CTL_EXIT_OK;
	}
	const struct cmd_help *h = NULL;
	if (argc > 2) {	/* a subcommand with its own entry: "change list" is change-list */
		char two[64];
		snprintf(two, sizeof two, "%s-%s", argv[1], argv[2]);
		h = find(two);
	}
	if (h == NULL)
		h = find(argv[1]);
	if (h == NULL) {
		fprintf(stderr, "scopectl help: no command \"%s\"; the commands are:", argv[1]);
		for (size_t i = 0; i < NHELP; i++)
			fprintf(stderr, " %s", HELP[i].name);
		fputc('\n', stderr);
		return CTL_EXIT_USAGE;
	}
	for (const char *p = h->synopsis; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		printf("%s%.*s\n", p == h->synopsis || p[0] != ' ' ? "usage: scopectl " : "              ",
		       (int)n, p);
		p += n + (nl != NULL);
	}
	putchar('\n');
	char text[2048];
	wrap(stdout, describe(h, text, sizeof text), "", 78);
	return CTL_EXIT_OK;
}
