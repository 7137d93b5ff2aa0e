// The protobuf messages a tfevents file holds, written here from the field numbers TensorBoard
// documents in tensorboard/compat/proto/event.proto and summary.proto — only what we write
// (scalars as simple_value, images as Summary.Image, the file version and session starts).
// Encoding is protobufjs's; unknown fields are simply absent, which proto3 readers accept.
import protobuf from 'protobufjs';

const PROTO = `
syntax = "proto3";
package tensorboard;

message Event {
  double wall_time = 1;
  int64 step = 2;
  oneof what {
    string file_version = 3;
    Summary summary = 5;
    SessionLog session_log = 7;
  }
}

message SessionLog {
  enum SessionStatus {
    STATUS_UNSPECIFIED = 0;
    START = 1;
    STOP = 2;
    CHECKPOINT = 3;
  }
  SessionStatus status = 1;
  string checkpoint_path = 2;
  string msg = 3;
}

message Summary {
  message Image {
    int32 height = 1;
    int32 width = 2;
    int32 colorspace = 3;
    bytes encoded_image_string = 4;
  }
  message Value {
    string tag = 1;
    oneof value {
      float simple_value = 2;
      Image image = 4;
    }
  }
  repeated Value value = 1;
}
`;

const root = protobuf.parse(PROTO, { keepCase: true }).root;

/** tensorboard.Event, for encoding (and decoding in tests). */
export const EventType: protobuf.Type = root.lookupType('tensorboard.Event');

/** SessionLog.SessionStatus.START: readers drop events of a crashed run past this step. */
export const SESSION_START = 1;

/** One Summary.Value as we write it. */
export type SummaryValue =
  | { tag: string; simple_value: number }
  | { tag: string; image: { height: number; width: number; colorspace: number; encoded_image_string: Uint8Array } };

/** The fields of an Event we write (exactly one of file_version, summary, session_log). */
export interface EventFields {
  wall_time: number;
  step: number;
  file_version?: string;
  summary?: { value: SummaryValue[] };
  session_log?: { status: number; msg?: string };
}

/** Serialise an Event. */
export function encodeEvent(e: EventFields): Uint8Array {
  return EventType.encode(EventType.fromObject(e)).finish();
}
