//! Callback request parsing: raw query strings, form bodies and `Cookie` headers never
//! panic, the size limits hold, and fields read back as parsed.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use payment_core::{
    CallbackRequest,
    adapter::CallbackMethod,
    fuzzing::{MAX_CALLBACK_FIELD_LEN, MAX_CALLBACK_FIELDS},
};

#[derive(Arbitrary, Debug)]
struct Input {
    post: bool,
    query: String,
    body: Vec<u8>,
    cookie_header: String,
    pairs: Vec<(String, String)>,
}

fn check(request: &CallbackRequest) {
    let fields: Vec<_> = request.query().chain(request.form()).collect();
    assert!(fields.len() <= MAX_CALLBACK_FIELDS);
    for (k, v) in &fields {
        assert!(k.len() <= MAX_CALLBACK_FIELD_LEN && v.len() <= MAX_CALLBACK_FIELD_LEN);
        // The first field of a name wins, form before query.
        let first = request
            .form()
            .chain(request.query())
            .find(|(name, _)| name == k)
            .map(|(_, v)| v);
        assert_eq!(request.param(k), first);
    }
    assert!(request.cookies().count() <= MAX_CALLBACK_FIELDS);
    for (name, value) in request.cookies() {
        assert!(!name.is_empty());
        assert_eq!(name.trim(), name);
        assert!(!name.contains(';') && !value.contains(';'));
        assert!(request.cookie(name).is_some());
    }
}

fuzz_target!(|input: Input| {
    let parsed = if input.post {
        CallbackRequest::from_post(&input.query, &input.body)
    } else {
        CallbackRequest::from_get(&input.query)
    };
    if let Ok(request) = parsed {
        assert_eq!(
            request.method(),
            if input.post {
                CallbackMethod::Post
            } else {
                CallbackMethod::Get
            }
        );
        let request = request.with_cookie_header(&input.cookie_header);
        check(&request);
    }

    // Pairs written as a query string read back as the same pairs (the pipeline
    // re-posts a callback's query this way).
    if let Ok(query) = serde_urlencoded::to_string(&input.pairs)
        && let Ok(request) = CallbackRequest::from_get(&query)
    {
        let read: Vec<(String, String)> = request
            .query()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        assert_eq!(read, input.pairs);
        check(&request);
    }
});
