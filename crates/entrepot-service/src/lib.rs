//! The service layer every registry front-end and the API go through.
