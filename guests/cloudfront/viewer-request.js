// CloudFront viewer-request function (runtime cloudfront-js-2.0), attached to the guest domain.
// Maps the guests' short URL /g/<ID> onto the exported object /jada-guest-<id>.html.
// Plain ES5 on purpose: var, no modules, no arrow functions.
// CloudFront caches under the rewritten URI: invalidate /g/<ID> and /jada-guest-<id>.html both.

// The ids Django's /g/<ID> view accepts (guests/views.py SESSION_ID_RE), no more: anything else
// reaches the bucket as it came and finds nothing (tests/guests/guest_page_ids.json, run on both).
var GUEST_PAGE = /^\/g\/([A-Za-z0-9]{10,32})$/;

function handler(event) {
    var request = event.request;
    var match = GUEST_PAGE.exec(request.uri);
    if (match) {
        // Only the path changes; the querystring object and headers pass through untouched.
        request.uri = '/jada-guest-' + match[1].toLowerCase() + '.html';
    }
    return request;
}
