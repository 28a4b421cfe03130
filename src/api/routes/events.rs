//! `GET /api/v1/events`: live events as Server-Sent Events (`event:` is the event type, `data:`
//! its JSON). A subscriber too slow to keep up gets a `lagged` event with how many it missed.
//! At most `api.max_event_subscribers` streams are open at once; one more is answered 503.

use std::convert::Infallible;

use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures::{Stream, StreamExt};
use tokio::sync::broadcast::error::RecvError;

use crate::api::{ApiError, ApiState};

/// Subscribes, unless `max_event_subscribers` streams are open already (then 503).
pub async fn stream(
    State(st): State<ApiState>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let Ok(permit) = st.event_slots.clone().try_acquire_owned() else {
        return Err(ApiError::Unavailable(
            "too many event subscribers; retry later".into(),
        ));
    };
    let rx = st.events.subscribe();
    // the permit lives as long as the stream, freeing the slot when the subscriber leaves
    let events = futures::stream::unfold((rx, permit), |(mut rx, permit)| async move {
        let sse = match rx.recv().await {
            Ok(ev) => SseEvent::default()
                .event(ev.name())
                .json_data(&ev)
                .unwrap_or_else(|_| SseEvent::default().event("error")),
            Err(RecvError::Lagged(n)) => SseEvent::default().event("lagged").data(n.to_string()),
            Err(RecvError::Closed) => return None,
        };
        Some((Ok(sse), (rx, permit)))
    });
    // End the stream on shutdown, or graceful shutdown would wait for every subscriber.
    let events = events.take_until(st.cancel.clone().cancelled_owned());
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}
