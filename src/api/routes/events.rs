//! `GET /api/v1/events`: live events as Server-Sent Events (`event:` is the event type, `data:`
//! its JSON). A subscriber too slow to keep up gets a `lagged` event with how many it missed.

use std::convert::Infallible;

use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures::{Stream, StreamExt};
use tokio::sync::broadcast::error::RecvError;

use crate::api::ApiState;

pub async fn stream(
    State(st): State<ApiState>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let rx = st.events.subscribe();
    let events = futures::stream::unfold(rx, |mut rx| async move {
        let sse = match rx.recv().await {
            Ok(ev) => SseEvent::default()
                .event(ev.name())
                .json_data(&ev)
                .unwrap_or_else(|_| SseEvent::default().event("error")),
            Err(RecvError::Lagged(n)) => SseEvent::default().event("lagged").data(n.to_string()),
            Err(RecvError::Closed) => return None,
        };
        Some((Ok(sse), rx))
    });
    // End the stream on shutdown, or graceful shutdown would wait for every subscriber.
    let events = events.take_until(st.cancel.clone().cancelled_owned());
    Sse::new(events).keep_alive(KeepAlive::default())
}
