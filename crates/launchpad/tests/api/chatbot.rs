//! Tests of `chatbot`: not written yet.
