// Package dataset generates synthetic extraction examples for the
// UserProfile schema (schemas/user_profile.schema.json) and reads and writes
// the JSONL records that cmd/datagen produces and the trainer consumes.
//
// A Generator is a pure function of its Config: Sample(i) draws example i
// from a ChaCha8 stream keyed by (seed, i), so the same seed gives the same
// examples byte for byte (given the pinned gofakeit version, whose word
// lists supply the names), and example i does not depend on how many
// examples are drawn. Each example is a short text about one person, written
// from one of the biography templates (Templates), and the Profile it
// describes. Compared with the reference article's generator (names, an
// email 70% of the time, 1–20 years, 3–6 skills from a pool, a role from the
// enum, a few templates) the texts also have titles ("Dr.", left out of
// full_name), middle initials, some non-ASCII names, inverted names
// ("Smith, Jane"), role paraphrases ("back-end developer", "senior data
// scientist"), years written as words ("seven years", "Twelve years so
// far"), skills spread over several sentences (in the order they appear in
// the text, which is the order of the skills array), distractor sentences
// (other people's names and years, company e-mail addresses, unrelated
// numbers) and missing optional data (no e-mail: "email": null, as
// Pydantic's model_dump writes it).
//
// Some templates are held out of training (DefaultHeldOut): train examples
// never use them; validation and test examples use one of them half the
// time, so evaluation measures generalisation to unseen phrasings.
//
// This package writes no completions: laying a Profile out exactly as the
// constrained decoder writes it needs the compiler, which nothing under
// runtime/ imports; cmd/datagen does that and verifies each one.
package dataset
