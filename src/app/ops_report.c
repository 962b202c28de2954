/*
 * ops_report.c - report.deployment: a deployment's transparency report
 * (src/report/report.h) for the auditor and the admin, as JSON (the
 * answer's body) or as the HTML page or PDF (a file answer).  The
 * checkpoints are verified with the van's own signing key.  Reading a
 * report changes nothing and is not audited (like audit.show).
 */
#include <string.h>

#include "app_int.h"
#include "report/report.h"

lfr_status app_op_REPORT_DEPLOYMENT(app_call *c) {
    const char *fmt = app_arg_str(c, "format");
    lfr_report_format f = LFR_REPORT_FORMAT_JSON;
    lfr_status st = fmt ? lfr_report_format_parse(fmt, &f, c->err) : LFR_OK;
    if (st != LFR_OK) return st;
    lfr_report_params p = {.deployment_id = app_arg_id(c, "deployment"),
                           .pubkey = c->app->sign.pk,
                           .pubkey_source = "the van's signing key"};
    json_t *rep = NULL;
    st = lfr_report_build(c->s, &p, &rep, c->err);
    if (st != LFR_OK) return st;
    if (f == LFR_REPORT_FORMAT_JSON) return app_answer(c, rep);
    st = lfr_report_render(rep, f, &c->res->blob, &c->res->blob_len, c->err);
    json_decref(rep);
    if (st != LFR_OK) return st;
    c->res->blob_type = lfr_report_format_mime(f);
    return app_answer(c, json_pack("{s:I, s:s, s:s}", "deployment", (json_int_t)p.deployment_id,
                                   "format", lfr_report_format_name(f), "type",
                                   lfr_report_format_mime(f)));
}
