/*
 * report.h - the deployment transparency report: what happened in one
 * deployment, computed from the store and the audit log alone.
 *
 * OVERVIEW
 *   lfr_report_build reads one deployment's row and every audit record of
 *   that deployment (lfr_audit_each) and builds ONE JSON object, the report
 *   (schema "openlfr-transparency-report-v1", docs/report-schema.md and
 *   docs/report-schema.json).  No number is typed in by a person: each one
 *   is counted from the log or read from the deployment row, and the
 *   threshold's meaning comes from lfr_match_threshold_info.
 *
 *   The log, not the tables, is the source of the counts: retention deletes
 *   alerts, checks and the watchlist (lfr_deploy_purge) but never the log,
 *   so a report made a year later says the same as one made on the day.
 *   The log's integrity is part of the report: lfr_audit_verify,
 *   lfr_deploy_verify_rows, and every signed checkpoint of the deployment
 *   found in the log (audit.checkpoint records) exported again and verified
 *   against the log with the van's public key.
 *
 *   Nothing biometric is in it: no image, template or score of a person;
 *   people on the watchlist appear only as counts by category (never a name
 *   or force reference: the report is meant to be published, and the list
 *   holds victims, missing and vulnerable people and children); people not
 *   on the list do not appear at all.  Free text that may name anyone (the
 *   operators' notes, the officers' free-text check reasons) is left out;
 *   check reasons are counted by the officers' app's fixed reasons, the
 *   rest as "other".  Officers acting in a role (who authorised, who
 *   amended) are named, as the issue of accountability requires; the
 *   officers who made photo checks are only counted.
 *
 *   Faces seen and tracks are not recorded by the store (the pipeline
 *   counts them in memory only, so nothing about passers-by is kept): the
 *   report says so (null with a sentence), rather than show a number.
 *
 *   The renderers turn the JSON (and only the JSON) into one self-contained
 *   HTML page with SVG charts (PLplot's svg driver) or a PDF (cairo + pango,
 *   charts by PLplot's extcairo driver): every figure can be regenerated
 *   from the JSON.  Both render the same blocks (report_doc.c), so they
 *   carry the same content.
 *
 * OWNERSHIP
 *   *out from lfr_report_build is a new jansson reference (json_decref).
 *   Buffers from the renderers are the caller's (lfr_free).  The report
 *   JSON passed to the renderers is only read.
 *
 * THREADS
 *   PLplot keeps its state in process-wide variables; the chart code holds
 *   one lock while it draws (report_chart.c), so renderers may be called
 *   from several threads.
 */
#ifndef LFR_REPORT_H
#define LFR_REPORT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "store/store.h"

#define LFR_REPORT_SCHEMA "openlfr-transparency-report-v1"

typedef struct lfr_report_params {
    int64_t deployment_id;
    /* The van's public key the checkpoints must be signed with (32 bytes:
     * the public half of the signing key, or one an oversight body pins).
     * NULL: each checkpoint's own key, and the report says it was not
     * pinned. */
    const uint8_t *pubkey;
    const char *pubkey_source;     /* says where it came from; may be NULL */
    int64_t generated_at;          /* 0: the store's clock */
} lfr_report_params;

/* Builds the report.  LFR_ERR_NOT_FOUND for an unknown deployment.  A log
 * that fails verification still gives a report (LFR_OK): the integrity
 * section says what failed and where. */
lfr_status lfr_report_build(lfr_store *s, const lfr_report_params *p, json_t **out,
                            lfr_err *err);

/* Output formats: enum + names ("html"). */
#define LFR_REPORT_FORMAT_LIST(X)                                              \
    X(JSON, "json")                                                            \
    X(HTML, "html")                                                            \
    X(PDF, "pdf")

typedef enum lfr_report_format {
#define LFR_REPORT_FORMAT_ENUM(id, name) LFR_REPORT_FORMAT_##id,
    LFR_REPORT_FORMAT_LIST(LFR_REPORT_FORMAT_ENUM)
#undef LFR_REPORT_FORMAT_ENUM
    LFR_REPORT_FORMAT_COUNT
} lfr_report_format;

const char *lfr_report_format_name(lfr_report_format f);
/* LFR_ERR_INVALID_ARG naming the value for an unknown name. */
lfr_status lfr_report_format_parse(const char *name, lfr_report_format *out, lfr_err *err);
/* The MIME type of a format ("text/html; charset=utf-8"). */
const char *lfr_report_format_mime(lfr_report_format f);

/* Renders a report (from lfr_report_build, or read back from its JSON) in
 * a format: JSON (pretty, keys in order), HTML (one page, inline SVG
 * charts, print CSS) or PDF (A4).  LFR_ERR_INVALID_ARG when the object is
 * not a report of this schema (err names the missing field). */
lfr_status lfr_report_render(const json_t *report, lfr_report_format f, uint8_t **out,
                             size_t *len, lfr_err *err);

/* The accuracy and fairness evaluation report (`openlfr eval report`,
 * eval_html.c): its JSON, schema LFR_EVAL_REPORT_SCHEMA, written by the
 * evaluation (src/cli/cmd_eval_report.c; fields at docs/accuracy.md),
 * rendered into one HTML page with PLplot SVG charts, from the JSON alone
 * (*out: lfr_free).  LFR_ERR_INVALID_ARG naming the field when `report`
 * is not of that schema. */
#define LFR_EVAL_REPORT_SCHEMA "openlfr-eval-report-v1"
lfr_status lfr_eval_report_html(const json_t *report, uint8_t **out, size_t *len, lfr_err *err);

#endif
