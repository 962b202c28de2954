#!/usr/bin/env python3
"""openapi-gen.py - writes docs/openapi.yaml from the two tables it documents:

  src/http/routes.c  the routes (method, path, operation, body kind), and
  src/app/ops.c      each operation's argument table (name, type, required,
                     help): the path parameters, query parameters and JSON
                     body fields of a route are exactly its operation's
                     arguments, so the request schemas are generated, never
                     typed twice.

The response schemas (one per JSON form of src/app/json.c and per
operation's answer) and the summaries are written here.  Run it after a
change to either table, then tools/openapi-json.sh; tests/test_http.c checks
the result against the tables compiled into the server (routes, path
parameters, request fields, required fields, types) and validates every
answer of its flow test against these response schemas.

  tools/openapi-gen.py           writes docs/openapi.yaml
  tools/openapi-gen.py --check   exit 1 if docs/openapi.yaml differs
Needs python3 with PyYAML (Debian python3-yaml).
"""
import collections, os, re, sys
import yaml

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
def read(p): return open(os.path.join(ROOT, p)).read()

# --- the tables -----------------------------------------------------------
routes_c = read('src/http/routes.c')
ROUTES = re.findall(r'X\("(\w+)", "([^"]+)", (\w+), (\w+), (\w+),\s*\\?\s*([^)]*)\)', routes_c)
app_h = read('src/app/app.h')
OPS = {m[0]: (m[1], m[2]) for m in re.findall(r'X\((\w+), "([\w.]+)", ([^,]+), \w+\)', app_h)}
ops_c = read('src/app/ops.c')
entry = re.search(r'#define ENTRY_FIELDS(.*?)\nstatic', ops_c, re.S).group(1).replace('\\\n', '\n')
def arg_rows(text):
    out = []
    for r in re.finditer(r'\{"(\w+)",\s*LFR_ARG_(\w+),\s*(\d),\s*((?:"(?:[^"\\]|\\.)*"\s*)+)\}', text):
        h = ''.join(re.findall(r'"((?:[^"\\]|\\.)*)"', r.group(4))).replace('\\"', '"')
        out.append((r.group(1), r.group(2), int(r.group(3)), h))
    return out
ARGS = {a.group(1): arg_rows(a.group(2).replace('ENTRY_FIELDS', entry))
        for a in re.finditer(r'static const lfr_op_arg ARGS_(\w+)\[\] =\s*(NO_ARGS;|\{.*?END\};)', ops_c, re.S)}
missing = [op for op in OPS if op not in ARGS]
if missing: sys.exit('openapi-gen: no argument table found in src/app/ops.c for ' + ', '.join(missing))

ROLES = {'R_OPR': 'operator', 'R_OFF': 'officer', 'R_AUTH': 'authorising_officer', 'R_AUD': 'auditor', 'R_ADM': 'admin'}
def roles_of(expr):
    if 'R_ANY' in expr: return list(ROLES.values())
    return [ROLES[r.strip()] for r in expr.split('|') if r.strip() in ROLES]

# app.h LFR_ARG_TYPE_LIST -> JSON Schema (tests/test_http.c has the same map)
def arg_schema(t, where):
    s = {'ID': {'type': 'integer', 'minimum': 1}, 'INT': {'type': 'integer', 'minimum': 0},
         'TEXT': {'type': 'string'}, 'NAME': {'type': 'string'},
         'SECRET': {'type': 'string', 'minLength': 1}, 'REAL': {'type': 'number'},
         'BOOL': {'type': 'boolean'}, 'TIME': {'type': ['string', 'integer']},
         'IDS': {'type': 'array', 'items': {'type': 'integer', 'minimum': 1}},
         'WORDS': {'type': 'array', 'items': {'type': 'string'}},
         'ROWS': {'type': 'array', 'items': {'type': 'object'}}}[t]
    return dict(s)

SUMMARY = {
 'health':'Is the server up (no sign-in).',
 'session.login':'Sign in: login and password give a session token (shown once).',
 'session.logout':'Sign out: the session token stops working at once.',
 'session.whoami':'Who this token is: account, roles, device and deployment.',
 'deployment.create':'Create a deployment (planned; needs authorisation by another account).',
 'deployment.authorise':'Authorise a deployment (an authorising officer other than its creator and than anyone who added to its watchlist).',
 'deployment.start':'Start an authorised deployment: its cameras and matching go live.',
 'deployment.end':'End a live deployment; device tokens bound to it stop working.',
 'deployment.amend':'Propose an amendment (threshold, watchlist removal) to a deployment.',
 'deployment.amend_authorise':'Authorise a proposed amendment; it takes effect on the next frame.',
 'deployment.show':'One deployment with its state, threshold and what it means.',
 'deployment.list':'Deployments (a device sees only its own).',
 'camera.add':"Add a camera to a deployment.", 'camera.remove':'Remove a camera.',
 'camera.list':"A deployment's cameras and their state.",
 'camera.stats':"A deployment's running cameras now: state, analysed fps, frames dropped, faces, alerts, latency (the console's live table).",
 'camera.preview':"The operator's live view of a running camera: its newest analysed frame, at most 640 px, faces boxed (matched ones red). Operators and admins only, never officers' devices; in memory only, Cache-Control: no-store.",
 'deployment.amendments':"A deployment's amendments, newest first: the proposed ones waiting for a second authorising officer, and the history.",
 'watchlist.add':'Enrol one watchlist entry (JSON with the image in base64, quality-controlled).',
 'watchlist.import':'Bulk import of watchlist entries (JSON; a bad row never stops the import).',
 'watchlist.add_photo':'Another photo of a person already on a draft watchlist (quality-controlled, compared with the entry\'s photos; the entry is then matched by the mean of its photos).',
 'watchlist.list':"A deployment's watchlist entries (no images).",
 'watchlist.photos':"Every photo of one watchlist entry, oldest first: where it came from, when it was taken, who added it and when, and any quality warnings accepted with the reason (the images themselves: GET /api/watchlist/images/{id}).",
 'watchlist.remove':'Remove a watchlist entry (before authorisation; after it, by amendment).',
 'watchlist.image':'A watchlist image (JPEG, unsealed for this request only; Cache-Control: no-store).',
 'alert.list':"A deployment's alerts.", 'alert.get':'One alert with its match details.',
 'alert.image':'The live crop of an alert (JPEG, Cache-Control: no-store).',
 'alert.decide':'Adjudicate an alert: confirm or reject, with a note.',
 'alert.dispatch':"Send a confirmed alert to officers' devices.",
 'alert.ack':'An officer acknowledges a dispatched alert.',
 'alert.outcome':'Record the outcome: engaged, arrested, no further action, mistaken identity.',
 'check.photo':"An officer's photo check: the body is the JPEG or PNG; the reason is a query parameter. The answer holds the candidates above threshold, or no match on this deployment's watchlist.",
 'check.list':"A deployment's photo checks (the record of each, photos only if matched).",
 'device.pair_code':'A one-time pairing code for a device (and its QR code).',
 'device.pair':"Redeem a pairing code: the officer's login and password, a device name; gives a device token.",
 'device.list':'Paired devices.', 'device.revoke':"Revoke a device: refused at once, its event stream closed.",
 'user.add':'Add an account with its roles.', 'user.list':'Accounts.',
 'user.disable':'Disable an account (its sessions end).', 'user.passwd':"Set an account's password.",
 'audit.verify':'Verify the hash-chained audit log.', 'audit.show':'Read the audit log.',
 'audit.anchor':'The head of the audit chain, to write down outside the van.',
 'audit.checkpoint':"Sign the log's head now with the van's key: a checkpoint file for an oversight body to keep (also made at authorisation, start, end and purges).",
 'audit.checkpoint_get':'A checkpoint made earlier (default: the newest), as its file text (full and compact).',
 'audit.checkpoint_qr':'A checkpoint\'s compact form (the signed header) as a QR code SVG made on the van, for an oversight officer to photograph.',
 'retention.purge':'Apply the retention rules now (deletion receipts are audited).',
 'report.deployment':'The deployment\'s transparency report: JSON (docs/report-schema.md), HTML page or PDF.',
 'eval.status':'The accuracy and fairness evaluation: whether this van has the data, the running evaluation with its progress, and the runs kept (newest first).',
 'eval.start':'Start an evaluation (`openlfr eval report` in a child process of the server, one at a time) on the van\'s data; sample 40 is a quick rough run.',
 'eval.cancel':'Cancel the running evaluation (its child processes are stopped; recorded in the audit log).',
 'eval.file':'A finished evaluation\'s report: the HTML page (self-contained, SVG charts) or report.json.',
}
OTHER = {
 'EVENTS': ('events', 'Live events (Server-Sent Events). Every event has an id; Last-Event-ID (header) or last_event_id (query) resumes from the bounded history. EventSource cannot set headers, so this route also takes the token as ?access_token=. Heartbeat comments; a revoked device receives device.revoked and the stream closes.'),
 'SPEC': ('openapi', 'This document (JSON).'),
 'DOCS': ('docs', 'This document, rendered (Redoc, vendored).'),
 'DOCS_JS': ('docs.renderer', 'The vendored Redoc bundle.'),
 'QR_JS': ('qr.decoder', "The vendored QR decoder (jsQR) the officers' app uses to scan a pairing code where the browser has no BarcodeDetector."),
 'METRICS': ('metrics', 'Prometheus text: per route requests and errors, per camera fps, drops, faces, alerts, latency. Loopback clients only.'),
}

# --- response schemas: the JSON forms of src/app/json.c -------------------
def obj(props, required=None, extra=True):
    o = {'type': 'object', 'required': list(required if required is not None else props.keys()),
         'properties': props}
    if not extra: o['additionalProperties'] = False
    return o
def ref(n): return {'$ref': '#/components/schemas/' + n}
INT = {'type': 'integer'}
ID = {'type': 'integer', 'minimum': 1}
IDN = {'type': ['integer', 'null'], 'minimum': 1}
STR = {'type': 'string'}
STRN = {'type': ['string', 'null']}
NUM = {'type': 'number'}
NUMN = {'type': ['number', 'null']}
BOOL = {'type': 'boolean'}
TIME = {'type': ['string', 'null'], 'description': 'RFC 3339 UTC ("2025-06-01T10:00:00Z"), null when unset'}
def arr(s): return {'type': 'array', 'items': s}

SCHEMAS = collections.OrderedDict()
SCHEMAS['Error'] = obj({'error': obj({'status': INT, 'code': {'type': 'string', 'examples': ['ERR_PERMISSION']},
                                      'message': STR})}, ['error'])
SCHEMAS['Error']['description'] = ('Every error.  A refusal with details carries them beside "error" '
                                   '(watchlist.add refused by quality control: "quality").')
SCHEMAS['Error']['properties']['quality'] = ref('Quality')
SCHEMAS['Quality'] = obj({'grade': {'type': 'string', 'enum': ['accept', 'accept_with_warnings', 'reject']},
                          'reject': STR, 'why': STR,
                          'warnings': arr(obj({'kind': STR, 'value': NUM, 'cutoff': NUM, 'text': STR})),
                          'measured': {'type': 'object', 'description':
                                       'only what was measured: nothing when no face was found; score and '
                                       'eye_distance of the largest face when refused for several faces or '
                                       'a face too small; also sharpness, yaw, pitch, roll, at_edge, '
                                       'brightness and uneven_light once the face was aligned'}})
SCHEMAS['Principal'] = obj({'id': IDN, 'login': STR, 'roles': arr(STR), 'device': IDN, 'deployment': IDN})
SCHEMAS['ThresholdMeaning'] = obj({'templates': INT,
                                   'comparisons_counted': dict(INT, description='what the templates count for in false alerts, the n of fpir: an entry of several photos counts as its mean template\'s measured weight (docs/likeness.md)'),
                                   'fmr': NUM, 'fpir': NUM, 'false_alerts_per_10k_faces': NUM,
                                   'likeness': NUM, 'tar': NUM, 'extrapolated': BOOL,
                                   'sane_min': dict(NUM, description="the sane range of the deployment's model set"),
                                   'sane_max': NUM})
SCHEMAS['Deployment'] = obj(collections.OrderedDict([
    ('id', ID), ('name', STR), ('location', STR), ('purpose', STR), ('legal_basis', STR), ('cameras', STR),
    ('planned_start', TIME), ('planned_end', TIME), ('threshold', NUM), ('threshold_meaning', ref('ThresholdMeaning')),
    ('state', {'type': 'string', 'enum': ['draft', 'authorised', 'live', 'ended', 'purged']}),
    ('created_by', STR), ('created_at', TIME), ('authorised_by', STRN),
    ('authorised_at', TIME), ('watchlist_digest', STRN), ('entries_authorised', INT), ('started_at', TIME),
    ('ended_at', TIME), ('ended_by', STRN), ('watchlist_deleted_at', TIME), ('purged_at', TIME),
    ('entries', INT), ('images', INT), ('alerts', INT), ('photo_checks', INT)]))
SCHEMAS['Entry'] = obj(collections.OrderedDict([
    ('id', ID), ('deployment', ID), ('subject_ref', STR), ('display_name', STR), ('category', STR),
    ('category_other', STRN), ('reason', STR), ('image_source', STR), ('image_date', STR), ('added_by', STR),
    ('added_at', TIME), ('under_18', BOOL), ('under_18_justification', STRN), ('images', INT),
    ('quality_warnings', dict(arr({'type': 'object'}), description='the quality warnings accepted at enrolment ([] = none)')),
    ('warnings_accepted', dict(STRN, description='the enrolling officer\'s reason for accepting them')),
    ('warnings_accepted_by', STRN),
    ('images_with_warnings', dict(INT, description='photos of the entry enrolled with accepted warnings (the fields above are the first such photo\'s)'))]))
SCHEMAS['EntryPhoto'] = obj(collections.OrderedDict([
    ('id', dict(ID, description='the image: GET /api/watchlist/images/{id}')), ('entry', ID),
    ('first', dict(BOOL, description='the entry\'s first photo (its source and date are the entry\'s)')),
    ('image_source', dict(STRN, description='where it came from')), ('image_date', dict(STRN, description='when it was taken')),
    ('added_by', dict(STRN, description='who added it; null for a further photo added before openlfr kept it (the audit log\'s watchlist.image_add says)')),
    ('added_at', TIME),
    ('quality_warnings', dict(arr({'type': 'object'}), description='the quality warnings accepted when it was added ([] = none)')),
    ('warnings_accepted', dict(STRN, description='the reason they were accepted')), ('warnings_accepted_by', STRN)]))
SCHEMAS['Alert'] = obj(collections.OrderedDict([
    ('id', ID), ('deployment', ID), ('entry', IDN), ('image', dict(IDN, description='the watchlist image: GET /api/watchlist/images/{image}')),
    ('subject_ref', STR), ('camera', STR), ('at', TIME), ('score', NUM), ('threshold', NUM),
    ('likeness', dict(NUM, description='0-100, the score read on the deployment\'s calibration for what matched: '
                                       'for the mean of several photos (entry_photos 2 or more) the false-match rate '
                                       'is multiplied by that mean\'s measured weight (docs/likeness.md)')),
    ('entry_photos', dict(IDN, description='photos of the entry averaged into the watchlist template that matched: '
                                           '1 for one photo, 2 or more for their mean; null for alerts stored before '
                                           'openlfr kept it (read as one photo)')),
    ('source', {'type': 'string', 'enum': ['best_shot', 'track_template', 'unknown'],
                'description': 'what reached the score: one embedded face of the track (best_shot) or the '
                               'quality-weighted mean of its best embeddings (track_template); unknown for alerts '
                               'stored before openlfr kept it. A later better match from the other source changes it.'}),
    ('template_n', dict(IDN, description='embeddings in what matched: 1 for a best shot, 2 or more for a track '
                                         'template; null when unknown')),
    ('has_face_image', BOOL), ('decision', STRN), ('decided_by', STRN), ('decided_at', TIME), ('note', STRN),
    ('dispatched_at', TIME), ('dispatched_all', BOOL), ('outcome', STRN), ('outcome_by', STRN),
    ('outcome_at', TIME), ('outcome_note', STRN)]))
for k, v in [('display_name', STRN), ('category', STRN), ('category_other', STRN),
             ('reason', dict(STRN, description='reason for inclusion on the watchlist; null once the watchlist is deleted')),
             ('face_image_url', dict(STRN, description='the live face: GET it with the same token')),
             ('watchlist_image_url', dict(STRN, description='the watchlist image: GET it with the same token'))]:
    SCHEMAS['Alert']['properties'][k] = v
SCHEMAS['Check'] = obj({'id': ID, 'deployment': ID, 'officer': STR, 'device': IDN, 'at': TIME, 'reason': STR,
                        'result': STR, 'entry': IDN, 'subject_ref': STRN, 'score': NUMN})
SCHEMAS['Candidate'] = obj({'entry_id': ID, 'score': NUM, 'likeness': NUM,
                            'entry_photos': dict(INT, description='photos averaged into the template that matched '
                                                                  '(the likeness is read for it)'),
                            'entry': ref('Entry'),
                            'image': dict(IDN, description='the watchlist image: GET /api/watchlist/images/{image}')})
RTSP_TRANSPORT = {'type': 'string', 'enum': ['tcp', 'udp'],
                  'description': 'how an rtsp:// camera sends RTP (tcp unless udp was asked at camera.add)'}
SCHEMAS['Camera'] = obj({'id': ID, 'deployment': ID, 'name': STR, 'added_by': STR, 'added_at': TIME, 'removed_at': TIME,
                         'rtsp_transport': RTSP_TRANSPORT})
SCHEMAS['Device'] = obj({'id': ID, 'deployment': ID, 'user': IDN, 'name': STR, 'officer': STR, 'paired_at': TIME,
                         'last_seen_at': TIME, 'revoked_at': TIME, 'revoked_by': STRN})
SCHEMAS['User'] = obj({'id': ID, 'login': STR, 'display_name': STR, 'roles': arr(STR), 'disabled': BOOL,
                       'created_at': TIME, 'last_login_at': TIME, 'failures': INT, 'locked_until': TIME})
SCHEMAS['AuditRecord'] = obj({'seq': ID, 'at': TIME, 'actor': STR, 'role': STR, 'action': STR, 'deployment': IDN,
                              'details': {'type': ['object', 'string']}, 'prev_hash': STR, 'hash': STR})
SCHEMAS['Checkpoint'] = obj({'record': ID, 'seq': INT, 'head': STR, 'at': TIME, 'reason': STR, 'deployment': INT,
                             'pubkey': STR,
                             'text': dict(STR, description='the checkpoint file: signed header and one line per record'),
                             'compact': dict(STR, description='the signed header only (for a QR code)')})
SCHEMAS['EvalRun'] = obj(collections.OrderedDict([
    ('id', dict(ID, description='the seq of its eval.start audit record')),
    ('status', {'type': 'string', 'enum': ['running', 'cancelling', 'done', 'failed', 'cancelled', 'interrupted']}),
    ('started_at', TIME), ('ended_at', TIME), ('by', STR), ('sample', INT), ('model_set', STR), ('data', STR),
    ('error', dict(STRN, description='a failed run: its last error line')),
    ('has_report', BOOL),
    ('progress', dict(obj({'stage': INT, 'stages': INT, 'stage_name': STR, 'fraction': NUM, 'line': STRN,
                           'lines': arr(STR)}), description='while it runs: parsed from its progress lines')),
    ('seconds', INT)]), ['id', 'status', 'started_at', 'by', 'sample', 'model_set', 'has_report'])
SCHEMAS['Token'] = obj({'token': dict(STR, description='shown once; send as Authorization: Bearer'),
                        'user': ref('Principal')})

DEP_LIST = lambda key, item: obj({'deployment': ID, key: arr(ref(item))})
ANSWER = {
    'health': obj(collections.OrderedDict([
        ('status', STR), ('schema', INT), ('schema_latest', INT), ('face', BOOL),
        ('new_deployment', dict(obj(collections.OrderedDict([
            ('model_set', STR), ('threshold', NUM), ('sane_min', NUM), ('sane_max', NUM)])),
            description="the model set new deployments get, and its default threshold (FMR 1e-6) "
                        "and sane range"))])),
    'session.login': ref('Token'), 'session.logout': obj({'signed_out': BOOL}),
    'session.whoami': ref('Principal'),
    'deployment.create': ref('Deployment'), 'deployment.authorise': ref('Deployment'),
    'deployment.start': ref('Deployment'), 'deployment.end': ref('Deployment'),
    'deployment.amend': obj({'amendment': ID, 'deployment': ID, 'state': STR}),
    'deployment.amend_authorise': obj({'amendment': ID, 'deployment_id': ID, 'state': STR,
                                       'deployment': ref('Deployment')}),
    'deployment.show': {'allOf': [ref('Deployment'), obj({'camera_list': arr(ref('Camera'))})]},
    'deployment.list': obj({'deployments': arr(ref('Deployment'))}),
    'camera.add': obj({'id': ID, 'deployment': ID, 'name': STR, 'rtsp_transport': RTSP_TRANSPORT}),
    'camera.remove': obj({'id': ID, 'removed': BOOL}),
    'camera.list': obj({'cameras': arr(ref('Camera'))}),
    'camera.stats': obj(collections.OrderedDict([('deployment', ID), ('running', BOOL),
        ('settings', dict(obj(collections.OrderedDict(
            [('detect_every', {'type': 'integer', 'minimum': 1}),
             ('defer_behind', {'type': 'integer', 'minimum': 0}),
             ('embed_per_frame', {'type': 'integer', 'minimum': 1}),
             ('camera_queue', {'type': 'integer', 'minimum': 1}),
             ('analysis_threads', {'type': 'integer', 'minimum': 0}),
             ('analysis_workers', {'type': 'integer', 'minimum': 0}),
             ('alert_cooldown_s', {'type': 'number', 'minimum': 0})])),
            type=['object', 'null'],
            description='the camera settings the server runs the pipeline with (openlfr serve --help: '
                        'detect_every, defer_behind (0: never), embed_per_frame, camera_queue, '
                        'analysis_threads (0: one per CPU), alert_cooldown_s) and the analysis workers '
                        'started (0: no camera runs); null: this process runs no cameras')),
        ('cameras', arr(obj(collections.OrderedDict(
        [('camera_id', IDN), ('name', STR), ('state', STR),
         ('rtsp_transport', {'type': ['string', 'null'], 'enum': ['tcp', 'udp', None],
                             'description': 'the transport the camera runs with; null: not an RTSP camera'}),
         ('reason', STRN), ('running', BOOL),
         ('analysed_fps', NUM), ('frames', INT), ('frames_analysed', INT), ('frames_dropped', INT),
         ('faces', INT), ('alerts', INT), ('latency_p50_ms', NUMN), ('latency_p95_ms', NUMN),
         ('detect_full', dict(INT, description='analysed frames detected in full')),
         ('detect_near', dict(INT, description="analysed frames detected only near the camera's tracks")),
         ('detect_none', dict(INT, description='analysed frames not detected (no track to look near)')),
         ('detect_deferred', dict(INT, description='of detect_near and detect_none: a full detection '
                                  'was due but the camera was behind (frames waiting), so it waited'))]),
        required=['camera_id', 'name', 'state', 'rtsp_transport', 'reason', 'running', 'analysed_fps',
                  'frames', 'frames_analysed', 'frames_dropped', 'faces', 'alerts', 'latency_p50_ms',
                  'latency_p95_ms'])))])),
    'deployment.amendments': obj({'deployment': ID, 'pending': INT, 'amendments': arr(obj(collections.OrderedDict(
        [('id', ID), ('deployment', ID), ('state', {'type': 'string', 'enum': ['proposed', 'authorised', 'withdrawn']}),
         ('reason', STR), ('threshold', NUMN), ('remove_entry', IDN), ('remove_entry_name', STRN),
         ('proposed_by', STR), ('proposed_at', TIME), ('authorised_by', STRN), ('authorised_at', TIME)])))}),
    'watchlist.add': obj({'id': ID, 'entry': {'oneOf': [ref('Entry'), {'type': 'null'}]}, 'quality': ref('Quality')}),
    'watchlist.import': obj({'deployment': ID, 'added': INT, 'rejected': INT, 'rows': arr({'type': 'object'})}),
    'watchlist.add_photo': obj({'id': ID, 'image': ID,
                                'similarity': dict(NUM, description='cosine of the photo with the mean of the entry\'s photos before it'),
                                'entry': {'oneOf': [ref('Entry'), {'type': 'null'}]}, 'quality': ref('Quality')}),
    'watchlist.list': DEP_LIST('entries', 'Entry'),
    'watchlist.photos': obj({'entry': ID, 'photos': arr(ref('EntryPhoto'))}),
    'watchlist.remove': obj({'id': ID, 'removed': BOOL}),
    'alert.list': DEP_LIST('alerts', 'Alert'), 'alert.get': ref('Alert'),
    'alert.decide': ref('Alert'), 'alert.dispatch': ref('Alert'), 'alert.ack': ref('Alert'),
    'alert.outcome': ref('Alert'),
    'check.photo': obj(collections.OrderedDict([
        ('check', ID), ('deployment', ID), ('result', STR), ('face_found', BOOL), ('threshold', NUM),
        ('decode_reduction', INT), ('candidates', arr(ref('Candidate'))),
        ('message', dict(STR, description="\"no match on this deployment's watchlist\", or what to do with a possible match"))])),
    'check.list': DEP_LIST('checks', 'Check'),
    'device.pair_code': obj({'code': STR, 'expires_at': TIME, 'deployment': ID, 'server_url': STRN,
                             'ca_fingerprint': STRN, 'qr_svg': STRN}),
    'device.pair': ref('Token'),
    'device.list': obj({'devices': arr(ref('Device'))}), 'device.revoke': ref('Device'),
    'user.add': ref('User'), 'user.list': obj({'users': arr(ref('User'))}),
    'user.disable': ref('User'), 'user.passwd': ref('User'),
    'audit.verify': obj({'ok': BOOL, 'records': INT, 'anchors': INT, 'head_seq': INT, 'head_hash': STRN,
                         'first_bad_seq': INT, 'reason': STR, 'pubkey': STR},
                        ['ok', 'records', 'anchors', 'head_seq', 'head_hash']),
    'audit.show': obj({'records': arr(ref('AuditRecord'))}),
    'audit.anchor': obj({'anchor': ID, 'at': TIME, 'seq': INT, 'hash': STR}),
    'audit.checkpoint': obj({'checkpoint': ref('Checkpoint')}),
    'audit.checkpoint_get': obj({'checkpoint': ref('Checkpoint')}),
    'audit.checkpoint_qr': obj({'record': ID, 'seq': INT,
                                'compact': dict(STR, description='the text the QR code holds'),
                                'qr_svg': dict(STR, description='an SVG document, one unit per module')}),
    'report.deployment': {'type': 'object', 'description': 'with format json (the default): the report, '
                          'schema openlfr-transparency-report-v1 (docs/report-schema.json)',
                          'required': ['schema', 'deployment', 'watchlist', 'threshold', 'activity',
                                       'photo_checks', 'deletions', 'integrity']},
    'eval.status': obj({'data': obj({'dir': STRN, 'usable': BOOL, 'message': STRN}),
                        'running': {'oneOf': [ref('EvalRun'), {'type': 'null'}]},
                        'runs': arr(ref('EvalRun')), 'runs_total': INT, 'quick_sample': INT,
                        'model_sets': dict(arr(STR), description='the model sets an evaluation measures, the '
                                           'default for new deployments first'),
                        'default_model_set': dict(STR, description='the model set new deployments get '
                                                  '(LFR_DEPLOY_DEFAULT_MODEL_SET): what the console offers first')}),
    'eval.start': obj({'run': ref('EvalRun')}),
    'eval.cancel': obj({'run': ID, 'status': STR}),
    'eval.file': obj({'run': ID, 'format': STR, 'type': STR}),
    'retention.purge': obj({k: INT for k in ['watchlists', 'entries', 'images', 'alerts', 'alert_images',
                                             'photo_checks', 'photo_check_images', 'deployments_purged',
                                             'receipts']}),
}
IMAGE_ANSWER = {'alert.image', 'watchlist.image', 'camera.preview'}
# Answers that are a file in the format asked for (report.deployment: html, pdf).
FILE_ANSWER = {'report.deployment': ['text/html', 'application/pdf'],
               'eval.file': ['text/html', 'application/json']}

# --- paths ------------------------------------------------------------------
paths = collections.OrderedDict()
for method, pat, handler, op, body, maxb in ROUTES:
    item = paths.setdefault(pat, collections.OrderedDict())
    pnames = re.findall(r'\{(\w+)\}', pat)
    o = collections.OrderedDict()
    if handler == 'OP':
        name, roles = OPS[op]
        rl = roles_of(roles)
        o['operationId'] = name
        o['summary'] = SUMMARY[name]
        o['description'] = 'Roles allowed: ' + ', '.join(rl) + '.' if rl else 'No sign-in needed.'
        o['tags'] = [name.split('.')[0]]
        if not rl: o['security'] = []
        args = [a for a in ARGS[op] if a[1] != 'PATH']   # PATH: the command line only
        params, props, required = [], collections.OrderedDict(), []
        for a in args:
            n, t, req, h = a
            if t == 'IMAGE': continue
            if n in pnames:
                params.append({'name': n, 'in': 'path', 'required': True, 'description': h,
                               'schema': arg_schema(t, pat)})
            elif body in ('NB', 'IM'):
                p = {'name': n, 'in': 'query', 'required': bool(req), 'description': h,
                     'schema': arg_schema(t, pat)}
                params.append(p)
            else:
                props[n] = dict(arg_schema(t, pat), description=h)
                if req: required.append(n)
        missing = [p for p in pnames if p not in [a[0] for a in args]]
        if missing: sys.exit('openapi-gen: %s %s: path parameter %s is not an argument of %s'
                             % (method, pat, missing, name))
        if params: o['parameters'] = params
        if body in ('J', 'IJ'):
            if body == 'IJ':
                props['image_base64'] = {'type': 'string', 'contentEncoding': 'base64',
                                         'description': 'the JPEG or PNG, standard base64'}
                required.append('image_base64')
            schema = {'type': 'object', 'properties': props, 'additionalProperties': False}
            if required: schema['required'] = required
            o['requestBody'] = {'required': bool(required),
                                'content': {'application/json': {'schema': schema}}}
        elif body == 'IM':
            o['requestBody'] = {'required': True, 'content': {
                'image/jpeg': {'schema': {'type': 'string', 'format': 'binary'}},
                'image/png': {'schema': {'type': 'string', 'format': 'binary'}}}}
        if name in IMAGE_ANSWER:
            ok = {'description': 'the image (unsealed for this request only; Cache-Control: no-store)',
                  'content': {'image/jpeg': {'schema': {'type': 'string', 'format': 'binary'}}}}
        else:
            ok = {'description': 'the answer', 'content': {'application/json': {'schema': ANSWER[name]}}}
            for ct in FILE_ANSWER.get(name, []):
                ok['content'][ct] = {'schema': {'type': 'string', 'format': 'binary'}}
    else:
        oid, desc = OTHER[handler]
        o['operationId'] = oid
        o['summary'] = desc
        o['tags'] = ['server']
        if handler != 'EVENTS': o['security'] = []
        if handler == 'EVENTS':
            o['parameters'] = [{'name': 'Last-Event-ID', 'in': 'header', 'schema': {'type': 'integer'}},
                               {'name': 'last_event_id', 'in': 'query', 'schema': {'type': 'integer'}},
                               {'name': 'access_token', 'in': 'query', 'schema': {'type': 'string'}}]
        ctype = {'EVENTS': 'text/event-stream', 'METRICS': 'text/plain', 'SPEC': 'application/json',
                 'DOCS': 'text/html', 'DOCS_JS': 'text/javascript', 'QR_JS': 'text/javascript'}[handler]
        ok = {'description': desc, 'content': {ctype: {'schema': {'type': 'object'} if handler == 'SPEC'
                                                       else {'type': 'string'}}}}
    o['responses'] = {'200': ok, 'default': {'$ref': '#/components/responses/Error'}}
    item[method.lower()] = o

spec = collections.OrderedDict([
 ('openapi', '3.1.0'),
 ('info', {'title': 'openlfr van server', 'version': '1',
   'description': 'The HTTPS API of the van\'s control centre. HTTPS only, with the van\'s own CA (pin its SHA-256 '
   'fingerprint, printed by `openlfr serve` and carried in the pairing QR code). Sign in with POST /api/session '
   'and send `Authorization: Bearer TOKEN`. A path parameter is the operation\'s argument of the same name; the '
   'other arguments are query parameters (GET, DELETE, the photo upload) or JSON body fields, and nothing else '
   'is accepted (an unknown field is 400). Every error is JSON: {"error": {"status", "code", "message"}}. '
   'Limits: JSON bodies 64 KiB, JSON nesting 16, images 32 MiB, requests per token per minute (429), live-event '
   'streams (503). Every answer carries Cache-Control: no-store.'}),
 ('servers', [{'url': 'https://127.0.0.1:8443'}]),
 ('security', [{'bearer': []}]),
 ('paths', paths),
 ('components', {
   'securitySchemes': {'bearer': {'type': 'http', 'scheme': 'bearer'}},
   'responses': {'Error': {'description': 'an error: 400 bad input, 401 sign-in needed or token not valid, 403 role '
       'not allowed, 404 not found, 409 wrong state, 413 too large, 415 wrong content type, 422 image rejected, '
       '429 too many requests, 503 busy', 'content': {'application/json': {'schema': ref('Error')}}}},
   'schemas': SCHEMAS})])

class D(yaml.SafeDumper): pass
D.add_representer(collections.OrderedDict, lambda d, v: d.represent_dict(v.items()))
D.ignore_aliases = lambda self, data: True
text = ('# openlfr HTTPS API, OpenAPI 3.1.  GENERATED by tools/openapi-gen.py from the routes\n'
        '# table (src/http/routes.c) and the operations\' argument tables (src/app/ops.c):\n'
        '# edit those (or the response schemas in the generator), not this file.\n'
        '# web/openapi.json (served at /api/openapi.json) is made from it by\n'
        '# tools/openapi-json.sh; tests/test_http.c checks both against the tables.\n'
        + yaml.dump(spec, Dumper=D, sort_keys=False, width=100, allow_unicode=True))
out = os.path.join(ROOT, 'docs/openapi.yaml')
if sys.argv[1:] == ['--check']:
    if open(out).read() != text:
        sys.exit('docs/openapi.yaml is out of date: run tools/openapi-gen.py')
    sys.exit(0)
open(out, 'w').write(text)
print('docs/openapi.yaml: %d routes' % len(ROUTES))
