//! A sans-IO AS2 (RFC 4130) and S/MIME codec.
