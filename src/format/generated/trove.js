/*eslint-disable block-scoped-var, id-length, no-control-regex, no-magic-numbers, no-mixed-operators, no-prototype-builtins, no-redeclare, no-shadow, no-var, sort-vars, default-case, jsdoc/require-param*/
import $protobuf from "protobufjs/minimal.js";

// Common aliases
const $Reader = $protobuf.Reader, $Writer = $protobuf.Writer, $util = $protobuf.util;
const $Object = $util.global.Object, $undefined = $util.global.undefined, $Error = $util.global.Error, $RangeError = $util.global.RangeError;

// Exported root namespace
const $root = $protobuf.roots["default"] || ($protobuf.roots["default"] = {});

export const trove = $root.trove = (() => {

    /**
     * Namespace trove.
     * @exports trove
     * @namespace
     */
    const trove = {};

    trove.v1 = (function() {

        /**
         * Namespace v1.
         * @memberof trove
         * @namespace
         */
        const v1 = {};

        /**
         * EntryKind enum.
         * @name trove.v1.EntryKind
         * @enum {number}
         * @property {number} ENTRY_KIND_UNSPECIFIED=0 ENTRY_KIND_UNSPECIFIED value
         * @property {number} ENTRY_KIND_FILE=1 ENTRY_KIND_FILE value
         * @property {number} ENTRY_KIND_DIR=2 ENTRY_KIND_DIR value
         * @property {number} ENTRY_KIND_SYMLINK=3 ENTRY_KIND_SYMLINK value
         */
        v1.EntryKind = (function() {
            const valuesById = $Object.create(null), values = $Object.create(valuesById);
            values[valuesById[0] = "ENTRY_KIND_UNSPECIFIED"] = 0;
            values[valuesById[1] = "ENTRY_KIND_FILE"] = 1;
            values[valuesById[2] = "ENTRY_KIND_DIR"] = 2;
            values[valuesById[3] = "ENTRY_KIND_SYMLINK"] = 3;
            return values;
        })();

        v1.Xattr = (function() {

            /**
             * Properties of a Xattr.
             * @typedef {Object} trove.v1.Xattr.$Properties
             * @property {string|null} [name] Xattr name
             * @property {Uint8Array|null} [value] Xattr value
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of a Xattr.
             * @memberof trove.v1
             * @interface IXattr
             * @augments trove.v1.Xattr.$Properties
             * @deprecated Use trove.v1.Xattr.$Properties instead.
             */

            /**
             * Shape of a Xattr.
             * @typedef {trove.v1.Xattr.$Properties} trove.v1.Xattr.$Shape
             */

            /**
             * Constructs a new Xattr.
             * @memberof trove.v1
             * @classdesc Represents a Xattr.
             * @constructor
             * @param {trove.v1.Xattr.$Properties=} [p] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const Xattr = function (p) {
                if (p)
                    for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
                        if (p[ks[i]] != null && ks[i] !== "__proto__")
                            this[ks[i]] = p[ks[i]];
            };

            /**
             * Xattr name.
             * @member {string} name
             * @memberof trove.v1.Xattr
             * @instance
             */
            Xattr.prototype.name = "";

            /**
             * Xattr value.
             * @member {Uint8Array} value
             * @memberof trove.v1.Xattr
             * @instance
             */
            Xattr.prototype.value = $util.newBuffer([]);

            /**
             * Creates a new Xattr instance using the specified properties.
             * @function create
             * @memberof trove.v1.Xattr
             * @static
             * @param {trove.v1.Xattr.$Properties=} [properties] Properties to set
             * @returns {trove.v1.Xattr} Xattr instance
             * @type {{
             *   (properties: trove.v1.Xattr.$Shape): trove.v1.Xattr & trove.v1.Xattr.$Shape;
             *   (properties?: trove.v1.Xattr.$Properties): trove.v1.Xattr;
             * }}
             */
            Xattr.create = function(properties) {
                return new Xattr(properties);
            };

            /**
             * Encodes the specified Xattr message. Does not implicitly {@link trove.v1.Xattr.verify|verify} messages.
             * @function encode
             * @memberof trove.v1.Xattr
             * @static
             * @param {trove.v1.Xattr.$Properties} m Xattr message or plain object to encode
             * @param {$protobuf.Writer} [w] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Xattr.encode = function (m, w, q) {
                if (!w)
                    w = $Writer.create();
                if (q === $undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (m.name != null && $Object.hasOwnProperty.call(m, "name") && m.name !== "")
                    w.uint32(/* id 1, wireType 2 =*/10).string(m.name);
                if (m.value != null && $Object.hasOwnProperty.call(m, "value") && m.value.length)
                    w.uint32(/* id 2, wireType 2 =*/18).bytes(m.value);
                if (m.$unknowns != null && $Object.hasOwnProperty.call(m, "$unknowns"))
                    for (var i = 0; i < m.$unknowns.length; ++i)
                        w.raw(m.$unknowns[i]);
                return w;
            };

            /**
             * Decodes a Xattr message from the specified reader or buffer.
             * @function decode
             * @memberof trove.v1.Xattr
             * @static
             * @param {$protobuf.Reader|Uint8Array} r Reader or buffer to decode from
             * @param {number} [l] Message length if known beforehand
             * @returns {trove.v1.Xattr & trove.v1.Xattr.$Shape} Xattr
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Xattr.decode = function (r, l, z, q, g) {
                if (!(r instanceof $Reader))
                    r = $Reader.create(r);
                if (q === $undefined)
                    q = 0;
                if (q > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                var c, m, v;
                if (l === $undefined)
                    c = r.len;
                else {
                    c = r.pos + l;
                    if (c > r.len)
                        throw $RangeError("index out of range");
                    l = r.len;
                    r.len = c;
                }
                m = g || new $root.trove.v1.Xattr();
                while (r.pos < c) {
                    var s = r.pos;
                    var t = r.tag();
                    if (t === z) {
                        z = $undefined;
                        break;
                    }
                    var u = t & 7;
                    switch (t >>>= 3) {
                    case 1: {
                            if (u !== 2)
                                break;
                            if ((v = r.stringVerify()).length)
                                m.name = v;
                            else
                                delete m.name;
                            continue;
                        }
                    case 2: {
                            if (u !== 2)
                                break;
                            if ((v = r.bytes()).length)
                                m.value = v;
                            else
                                delete m.value;
                            continue;
                        }
                    }
                    r.skipType(u, q, t);
                    if (!r.discardUnknown) {
                        $util.makeProp(m, "$unknowns", false);
                        (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
                    }
                }
                if (l !== $undefined) {
                    if (r.pos !== c)
                        throw $RangeError("index out of range");
                    r.len = l;
                }
                if (z !== $undefined)
                    throw $Error("missing end group");
                return m;
            };

            /**
             * Gets the type url for Xattr
             * @function getTypeUrl
             * @memberof trove.v1.Xattr
             * @static
             * @param {string} [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
             * @returns {string} The type url
             */
            Xattr.getTypeUrl = function(prefix) {
                if (prefix === $undefined)
                    prefix = "type.googleapis.com";
                return prefix + "/trove.v1.Xattr";
            };

            return Xattr;
        })();

        v1.TreeEntry = (function() {

            /**
             * Properties of a TreeEntry.
             * @typedef {Object} trove.v1.TreeEntry.$Properties
             * @property {string|null} [name] TreeEntry name
             * @property {trove.v1.EntryKind|null} [kind] TreeEntry kind
             * @property {Uint8Array|null} [id] TreeEntry id
             * @property {number|null} [mode] TreeEntry mode
             * @property {number|null} [uid] TreeEntry uid
             * @property {number|null} [gid] TreeEntry gid
             * @property {number|null} [size] TreeEntry size
             * @property {string|null} [target] TreeEntry target
             * @property {Array.<trove.v1.Xattr.$Properties>|null} [xattrs] TreeEntry xattrs
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of a TreeEntry.
             * @memberof trove.v1
             * @interface ITreeEntry
             * @augments trove.v1.TreeEntry.$Properties
             * @deprecated Use trove.v1.TreeEntry.$Properties instead.
             */

            /**
             * Shape of a TreeEntry.
             * @typedef {trove.v1.TreeEntry.$Properties} trove.v1.TreeEntry.$Shape
             */

            /**
             * Constructs a new TreeEntry.
             * @memberof trove.v1
             * @classdesc Represents a TreeEntry.
             * @constructor
             * @param {trove.v1.TreeEntry.$Properties=} [p] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const TreeEntry = function (p) {
                this.xattrs = [];
                if (p)
                    for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
                        if (p[ks[i]] != null && ks[i] !== "__proto__")
                            this[ks[i]] = p[ks[i]];
            };

            /**
             * TreeEntry name.
             * @member {string} name
             * @memberof trove.v1.TreeEntry
             * @instance
             */
            TreeEntry.prototype.name = "";

            /**
             * TreeEntry kind.
             * @member {trove.v1.EntryKind} kind
             * @memberof trove.v1.TreeEntry
             * @instance
             */
            TreeEntry.prototype.kind = 0;

            /**
             * TreeEntry id.
             * @member {Uint8Array} id
             * @memberof trove.v1.TreeEntry
             * @instance
             */
            TreeEntry.prototype.id = $util.newBuffer([]);

            /**
             * TreeEntry mode.
             * @member {number} mode
             * @memberof trove.v1.TreeEntry
             * @instance
             */
            TreeEntry.prototype.mode = 0;

            /**
             * TreeEntry uid.
             * @member {number} uid
             * @memberof trove.v1.TreeEntry
             * @instance
             */
            TreeEntry.prototype.uid = 0;

            /**
             * TreeEntry gid.
             * @member {number} gid
             * @memberof trove.v1.TreeEntry
             * @instance
             */
            TreeEntry.prototype.gid = 0;

            /**
             * TreeEntry size.
             * @member {number} size
             * @memberof trove.v1.TreeEntry
             * @instance
             */
            TreeEntry.prototype.size = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

            /**
             * TreeEntry target.
             * @member {string} target
             * @memberof trove.v1.TreeEntry
             * @instance
             */
            TreeEntry.prototype.target = "";

            /**
             * TreeEntry xattrs.
             * @member {Array.<trove.v1.Xattr.$Properties>} xattrs
             * @memberof trove.v1.TreeEntry
             * @instance
             */
            TreeEntry.prototype.xattrs = $util.emptyArray;

            /**
             * Creates a new TreeEntry instance using the specified properties.
             * @function create
             * @memberof trove.v1.TreeEntry
             * @static
             * @param {trove.v1.TreeEntry.$Properties=} [properties] Properties to set
             * @returns {trove.v1.TreeEntry} TreeEntry instance
             * @type {{
             *   (properties: trove.v1.TreeEntry.$Shape): trove.v1.TreeEntry & trove.v1.TreeEntry.$Shape;
             *   (properties?: trove.v1.TreeEntry.$Properties): trove.v1.TreeEntry;
             * }}
             */
            TreeEntry.create = function(properties) {
                return new TreeEntry(properties);
            };

            /**
             * Encodes the specified TreeEntry message. Does not implicitly {@link trove.v1.TreeEntry.verify|verify} messages.
             * @function encode
             * @memberof trove.v1.TreeEntry
             * @static
             * @param {trove.v1.TreeEntry.$Properties} m TreeEntry message or plain object to encode
             * @param {$protobuf.Writer} [w] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            TreeEntry.encode = function (m, w, q) {
                if (!w)
                    w = $Writer.create();
                if (q === $undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (m.name != null && $Object.hasOwnProperty.call(m, "name") && m.name !== "")
                    w.uint32(/* id 1, wireType 2 =*/10).string(m.name);
                if (m.kind != null && $Object.hasOwnProperty.call(m, "kind") && m.kind !== 0)
                    w.uint32(/* id 2, wireType 0 =*/16).int32(m.kind);
                if (m.id != null && $Object.hasOwnProperty.call(m, "id") && m.id.length)
                    w.uint32(/* id 3, wireType 2 =*/26).bytes(m.id);
                if (m.mode != null && $Object.hasOwnProperty.call(m, "mode") && m.mode !== 0)
                    w.uint32(/* id 4, wireType 0 =*/32).uint32(m.mode);
                if (m.uid != null && $Object.hasOwnProperty.call(m, "uid") && m.uid !== 0)
                    w.uint32(/* id 5, wireType 0 =*/40).uint32(m.uid);
                if (m.gid != null && $Object.hasOwnProperty.call(m, "gid") && m.gid !== 0)
                    w.uint32(/* id 6, wireType 0 =*/48).uint32(m.gid);
                if (m.size != null && $Object.hasOwnProperty.call(m, "size") && (typeof m.size === "object" ? m.size.low || m.size.high : m.size !== 0))
                    w.uint32(/* id 7, wireType 0 =*/56).uint64(m.size);
                if (m.target != null && $Object.hasOwnProperty.call(m, "target") && m.target !== "")
                    w.uint32(/* id 8, wireType 2 =*/66).string(m.target);
                if (m.xattrs != null && m.xattrs.length) {
                    for (var i = 0; i < m.xattrs.length; ++i)
                        $root.trove.v1.Xattr.encode(m.xattrs[i], w.uint32(/* id 9, wireType 2 =*/74).fork(), q + 1).ldelim();
                }
                if (m.$unknowns != null && $Object.hasOwnProperty.call(m, "$unknowns"))
                    for (var i = 0; i < m.$unknowns.length; ++i)
                        w.raw(m.$unknowns[i]);
                return w;
            };

            /**
             * Decodes a TreeEntry message from the specified reader or buffer.
             * @function decode
             * @memberof trove.v1.TreeEntry
             * @static
             * @param {$protobuf.Reader|Uint8Array} r Reader or buffer to decode from
             * @param {number} [l] Message length if known beforehand
             * @returns {trove.v1.TreeEntry & trove.v1.TreeEntry.$Shape} TreeEntry
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            TreeEntry.decode = function (r, l, z, q, g) {
                if (!(r instanceof $Reader))
                    r = $Reader.create(r);
                if (q === $undefined)
                    q = 0;
                if (q > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                var c, m, v;
                if (l === $undefined)
                    c = r.len;
                else {
                    c = r.pos + l;
                    if (c > r.len)
                        throw $RangeError("index out of range");
                    l = r.len;
                    r.len = c;
                }
                m = g || new $root.trove.v1.TreeEntry();
                while (r.pos < c) {
                    var s = r.pos;
                    var t = r.tag();
                    if (t === z) {
                        z = $undefined;
                        break;
                    }
                    var u = t & 7;
                    switch (t >>>= 3) {
                    case 1: {
                            if (u !== 2)
                                break;
                            if ((v = r.stringVerify()).length)
                                m.name = v;
                            else
                                delete m.name;
                            continue;
                        }
                    case 2: {
                            if (u !== 0)
                                break;
                            if (v = r.int32())
                                m.kind = v;
                            else
                                delete m.kind;
                            continue;
                        }
                    case 3: {
                            if (u !== 2)
                                break;
                            if ((v = r.bytes()).length)
                                m.id = v;
                            else
                                delete m.id;
                            continue;
                        }
                    case 4: {
                            if (u !== 0)
                                break;
                            if (v = r.uint32())
                                m.mode = v;
                            else
                                delete m.mode;
                            continue;
                        }
                    case 5: {
                            if (u !== 0)
                                break;
                            if (v = r.uint32())
                                m.uid = v;
                            else
                                delete m.uid;
                            continue;
                        }
                    case 6: {
                            if (u !== 0)
                                break;
                            if (v = r.uint32())
                                m.gid = v;
                            else
                                delete m.gid;
                            continue;
                        }
                    case 7: {
                            if (u !== 0)
                                break;
                            if (typeof (v = r.uint64()) === "object" ? v.low || v.high : v !== 0)
                                m.size = v;
                            else
                                delete m.size;
                            continue;
                        }
                    case 8: {
                            if (u !== 2)
                                break;
                            if ((v = r.stringVerify()).length)
                                m.target = v;
                            else
                                delete m.target;
                            continue;
                        }
                    case 9: {
                            if (u !== 2)
                                break;
                            if (!(m.xattrs && m.xattrs.length))
                                m.xattrs = [];
                            m.xattrs.push($root.trove.v1.Xattr.decode(r, r.size(), $undefined, q + 1));
                            continue;
                        }
                    }
                    r.skipType(u, q, t);
                    if (!r.discardUnknown) {
                        $util.makeProp(m, "$unknowns", false);
                        (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
                    }
                }
                if (l !== $undefined) {
                    if (r.pos !== c)
                        throw $RangeError("index out of range");
                    r.len = l;
                }
                if (z !== $undefined)
                    throw $Error("missing end group");
                return m;
            };

            /**
             * Gets the type url for TreeEntry
             * @function getTypeUrl
             * @memberof trove.v1.TreeEntry
             * @static
             * @param {string} [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
             * @returns {string} The type url
             */
            TreeEntry.getTypeUrl = function(prefix) {
                if (prefix === $undefined)
                    prefix = "type.googleapis.com";
                return prefix + "/trove.v1.TreeEntry";
            };

            return TreeEntry;
        })();

        v1.Tree = (function() {

            /**
             * Properties of a Tree.
             * @typedef {Object} trove.v1.Tree.$Properties
             * @property {Array.<trove.v1.TreeEntry.$Properties>|null} [entries] Tree entries
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of a Tree.
             * @memberof trove.v1
             * @interface ITree
             * @augments trove.v1.Tree.$Properties
             * @deprecated Use trove.v1.Tree.$Properties instead.
             */

            /**
             * Shape of a Tree.
             * @typedef {trove.v1.Tree.$Properties} trove.v1.Tree.$Shape
             */

            /**
             * Constructs a new Tree.
             * @memberof trove.v1
             * @classdesc Represents a Tree.
             * @constructor
             * @param {trove.v1.Tree.$Properties=} [p] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const Tree = function (p) {
                this.entries = [];
                if (p)
                    for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
                        if (p[ks[i]] != null && ks[i] !== "__proto__")
                            this[ks[i]] = p[ks[i]];
            };

            /**
             * Tree entries.
             * @member {Array.<trove.v1.TreeEntry.$Properties>} entries
             * @memberof trove.v1.Tree
             * @instance
             */
            Tree.prototype.entries = $util.emptyArray;

            /**
             * Creates a new Tree instance using the specified properties.
             * @function create
             * @memberof trove.v1.Tree
             * @static
             * @param {trove.v1.Tree.$Properties=} [properties] Properties to set
             * @returns {trove.v1.Tree} Tree instance
             * @type {{
             *   (properties: trove.v1.Tree.$Shape): trove.v1.Tree & trove.v1.Tree.$Shape;
             *   (properties?: trove.v1.Tree.$Properties): trove.v1.Tree;
             * }}
             */
            Tree.create = function(properties) {
                return new Tree(properties);
            };

            /**
             * Encodes the specified Tree message. Does not implicitly {@link trove.v1.Tree.verify|verify} messages.
             * @function encode
             * @memberof trove.v1.Tree
             * @static
             * @param {trove.v1.Tree.$Properties} m Tree message or plain object to encode
             * @param {$protobuf.Writer} [w] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Tree.encode = function (m, w, q) {
                if (!w)
                    w = $Writer.create();
                if (q === $undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (m.entries != null && m.entries.length) {
                    for (var i = 0; i < m.entries.length; ++i)
                        $root.trove.v1.TreeEntry.encode(m.entries[i], w.uint32(/* id 1, wireType 2 =*/10).fork(), q + 1).ldelim();
                }
                if (m.$unknowns != null && $Object.hasOwnProperty.call(m, "$unknowns"))
                    for (var i = 0; i < m.$unknowns.length; ++i)
                        w.raw(m.$unknowns[i]);
                return w;
            };

            /**
             * Decodes a Tree message from the specified reader or buffer.
             * @function decode
             * @memberof trove.v1.Tree
             * @static
             * @param {$protobuf.Reader|Uint8Array} r Reader or buffer to decode from
             * @param {number} [l] Message length if known beforehand
             * @returns {trove.v1.Tree & trove.v1.Tree.$Shape} Tree
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Tree.decode = function (r, l, z, q, g) {
                if (!(r instanceof $Reader))
                    r = $Reader.create(r);
                if (q === $undefined)
                    q = 0;
                if (q > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                var c, m;
                if (l === $undefined)
                    c = r.len;
                else {
                    c = r.pos + l;
                    if (c > r.len)
                        throw $RangeError("index out of range");
                    l = r.len;
                    r.len = c;
                }
                m = g || new $root.trove.v1.Tree();
                while (r.pos < c) {
                    var s = r.pos;
                    var t = r.tag();
                    if (t === z) {
                        z = $undefined;
                        break;
                    }
                    var u = t & 7;
                    switch (t >>>= 3) {
                    case 1: {
                            if (u !== 2)
                                break;
                            if (!(m.entries && m.entries.length))
                                m.entries = [];
                            m.entries.push($root.trove.v1.TreeEntry.decode(r, r.size(), $undefined, q + 1));
                            continue;
                        }
                    }
                    r.skipType(u, q, t);
                    if (!r.discardUnknown) {
                        $util.makeProp(m, "$unknowns", false);
                        (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
                    }
                }
                if (l !== $undefined) {
                    if (r.pos !== c)
                        throw $RangeError("index out of range");
                    r.len = l;
                }
                if (z !== $undefined)
                    throw $Error("missing end group");
                return m;
            };

            /**
             * Gets the type url for Tree
             * @function getTypeUrl
             * @memberof trove.v1.Tree
             * @static
             * @param {string} [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
             * @returns {string} The type url
             */
            Tree.getTypeUrl = function(prefix) {
                if (prefix === $undefined)
                    prefix = "type.googleapis.com";
                return prefix + "/trove.v1.Tree";
            };

            return Tree;
        })();

        v1.DirMeta = (function() {

            /**
             * Properties of a DirMeta.
             * @typedef {Object} trove.v1.DirMeta.$Properties
             * @property {number|null} [mode] DirMeta mode
             * @property {number|null} [uid] DirMeta uid
             * @property {number|null} [gid] DirMeta gid
             * @property {Array.<trove.v1.Xattr.$Properties>|null} [xattrs] DirMeta xattrs
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of a DirMeta.
             * @memberof trove.v1
             * @interface IDirMeta
             * @augments trove.v1.DirMeta.$Properties
             * @deprecated Use trove.v1.DirMeta.$Properties instead.
             */

            /**
             * Shape of a DirMeta.
             * @typedef {trove.v1.DirMeta.$Properties} trove.v1.DirMeta.$Shape
             */

            /**
             * Constructs a new DirMeta.
             * @memberof trove.v1
             * @classdesc Represents a DirMeta.
             * @constructor
             * @param {trove.v1.DirMeta.$Properties=} [p] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const DirMeta = function (p) {
                this.xattrs = [];
                if (p)
                    for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
                        if (p[ks[i]] != null && ks[i] !== "__proto__")
                            this[ks[i]] = p[ks[i]];
            };

            /**
             * DirMeta mode.
             * @member {number} mode
             * @memberof trove.v1.DirMeta
             * @instance
             */
            DirMeta.prototype.mode = 0;

            /**
             * DirMeta uid.
             * @member {number} uid
             * @memberof trove.v1.DirMeta
             * @instance
             */
            DirMeta.prototype.uid = 0;

            /**
             * DirMeta gid.
             * @member {number} gid
             * @memberof trove.v1.DirMeta
             * @instance
             */
            DirMeta.prototype.gid = 0;

            /**
             * DirMeta xattrs.
             * @member {Array.<trove.v1.Xattr.$Properties>} xattrs
             * @memberof trove.v1.DirMeta
             * @instance
             */
            DirMeta.prototype.xattrs = $util.emptyArray;

            /**
             * Creates a new DirMeta instance using the specified properties.
             * @function create
             * @memberof trove.v1.DirMeta
             * @static
             * @param {trove.v1.DirMeta.$Properties=} [properties] Properties to set
             * @returns {trove.v1.DirMeta} DirMeta instance
             * @type {{
             *   (properties: trove.v1.DirMeta.$Shape): trove.v1.DirMeta & trove.v1.DirMeta.$Shape;
             *   (properties?: trove.v1.DirMeta.$Properties): trove.v1.DirMeta;
             * }}
             */
            DirMeta.create = function(properties) {
                return new DirMeta(properties);
            };

            /**
             * Encodes the specified DirMeta message. Does not implicitly {@link trove.v1.DirMeta.verify|verify} messages.
             * @function encode
             * @memberof trove.v1.DirMeta
             * @static
             * @param {trove.v1.DirMeta.$Properties} m DirMeta message or plain object to encode
             * @param {$protobuf.Writer} [w] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            DirMeta.encode = function (m, w, q) {
                if (!w)
                    w = $Writer.create();
                if (q === $undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (m.mode != null && $Object.hasOwnProperty.call(m, "mode") && m.mode !== 0)
                    w.uint32(/* id 1, wireType 0 =*/8).uint32(m.mode);
                if (m.uid != null && $Object.hasOwnProperty.call(m, "uid") && m.uid !== 0)
                    w.uint32(/* id 2, wireType 0 =*/16).uint32(m.uid);
                if (m.gid != null && $Object.hasOwnProperty.call(m, "gid") && m.gid !== 0)
                    w.uint32(/* id 3, wireType 0 =*/24).uint32(m.gid);
                if (m.xattrs != null && m.xattrs.length) {
                    for (var i = 0; i < m.xattrs.length; ++i)
                        $root.trove.v1.Xattr.encode(m.xattrs[i], w.uint32(/* id 4, wireType 2 =*/34).fork(), q + 1).ldelim();
                }
                if (m.$unknowns != null && $Object.hasOwnProperty.call(m, "$unknowns"))
                    for (var i = 0; i < m.$unknowns.length; ++i)
                        w.raw(m.$unknowns[i]);
                return w;
            };

            /**
             * Decodes a DirMeta message from the specified reader or buffer.
             * @function decode
             * @memberof trove.v1.DirMeta
             * @static
             * @param {$protobuf.Reader|Uint8Array} r Reader or buffer to decode from
             * @param {number} [l] Message length if known beforehand
             * @returns {trove.v1.DirMeta & trove.v1.DirMeta.$Shape} DirMeta
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            DirMeta.decode = function (r, l, z, q, g) {
                if (!(r instanceof $Reader))
                    r = $Reader.create(r);
                if (q === $undefined)
                    q = 0;
                if (q > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                var c, m, v;
                if (l === $undefined)
                    c = r.len;
                else {
                    c = r.pos + l;
                    if (c > r.len)
                        throw $RangeError("index out of range");
                    l = r.len;
                    r.len = c;
                }
                m = g || new $root.trove.v1.DirMeta();
                while (r.pos < c) {
                    var s = r.pos;
                    var t = r.tag();
                    if (t === z) {
                        z = $undefined;
                        break;
                    }
                    var u = t & 7;
                    switch (t >>>= 3) {
                    case 1: {
                            if (u !== 0)
                                break;
                            if (v = r.uint32())
                                m.mode = v;
                            else
                                delete m.mode;
                            continue;
                        }
                    case 2: {
                            if (u !== 0)
                                break;
                            if (v = r.uint32())
                                m.uid = v;
                            else
                                delete m.uid;
                            continue;
                        }
                    case 3: {
                            if (u !== 0)
                                break;
                            if (v = r.uint32())
                                m.gid = v;
                            else
                                delete m.gid;
                            continue;
                        }
                    case 4: {
                            if (u !== 2)
                                break;
                            if (!(m.xattrs && m.xattrs.length))
                                m.xattrs = [];
                            m.xattrs.push($root.trove.v1.Xattr.decode(r, r.size(), $undefined, q + 1));
                            continue;
                        }
                    }
                    r.skipType(u, q, t);
                    if (!r.discardUnknown) {
                        $util.makeProp(m, "$unknowns", false);
                        (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
                    }
                }
                if (l !== $undefined) {
                    if (r.pos !== c)
                        throw $RangeError("index out of range");
                    r.len = l;
                }
                if (z !== $undefined)
                    throw $Error("missing end group");
                return m;
            };

            /**
             * Gets the type url for DirMeta
             * @function getTypeUrl
             * @memberof trove.v1.DirMeta
             * @static
             * @param {string} [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
             * @returns {string} The type url
             */
            DirMeta.getTypeUrl = function(prefix) {
                if (prefix === $undefined)
                    prefix = "type.googleapis.com";
                return prefix + "/trove.v1.DirMeta";
            };

            return DirMeta;
        })();

        v1.KeyValue = (function() {

            /**
             * Properties of a KeyValue.
             * @typedef {Object} trove.v1.KeyValue.$Properties
             * @property {string|null} [key] KeyValue key
             * @property {string|null} [value] KeyValue value
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of a KeyValue.
             * @memberof trove.v1
             * @interface IKeyValue
             * @augments trove.v1.KeyValue.$Properties
             * @deprecated Use trove.v1.KeyValue.$Properties instead.
             */

            /**
             * Shape of a KeyValue.
             * @typedef {trove.v1.KeyValue.$Properties} trove.v1.KeyValue.$Shape
             */

            /**
             * Constructs a new KeyValue.
             * @memberof trove.v1
             * @classdesc Represents a KeyValue.
             * @constructor
             * @param {trove.v1.KeyValue.$Properties=} [p] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const KeyValue = function (p) {
                if (p)
                    for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
                        if (p[ks[i]] != null && ks[i] !== "__proto__")
                            this[ks[i]] = p[ks[i]];
            };

            /**
             * KeyValue key.
             * @member {string} key
             * @memberof trove.v1.KeyValue
             * @instance
             */
            KeyValue.prototype.key = "";

            /**
             * KeyValue value.
             * @member {string} value
             * @memberof trove.v1.KeyValue
             * @instance
             */
            KeyValue.prototype.value = "";

            /**
             * Creates a new KeyValue instance using the specified properties.
             * @function create
             * @memberof trove.v1.KeyValue
             * @static
             * @param {trove.v1.KeyValue.$Properties=} [properties] Properties to set
             * @returns {trove.v1.KeyValue} KeyValue instance
             * @type {{
             *   (properties: trove.v1.KeyValue.$Shape): trove.v1.KeyValue & trove.v1.KeyValue.$Shape;
             *   (properties?: trove.v1.KeyValue.$Properties): trove.v1.KeyValue;
             * }}
             */
            KeyValue.create = function(properties) {
                return new KeyValue(properties);
            };

            /**
             * Encodes the specified KeyValue message. Does not implicitly {@link trove.v1.KeyValue.verify|verify} messages.
             * @function encode
             * @memberof trove.v1.KeyValue
             * @static
             * @param {trove.v1.KeyValue.$Properties} m KeyValue message or plain object to encode
             * @param {$protobuf.Writer} [w] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            KeyValue.encode = function (m, w, q) {
                if (!w)
                    w = $Writer.create();
                if (q === $undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (m.key != null && $Object.hasOwnProperty.call(m, "key") && m.key !== "")
                    w.uint32(/* id 1, wireType 2 =*/10).string(m.key);
                if (m.value != null && $Object.hasOwnProperty.call(m, "value") && m.value !== "")
                    w.uint32(/* id 2, wireType 2 =*/18).string(m.value);
                if (m.$unknowns != null && $Object.hasOwnProperty.call(m, "$unknowns"))
                    for (var i = 0; i < m.$unknowns.length; ++i)
                        w.raw(m.$unknowns[i]);
                return w;
            };

            /**
             * Decodes a KeyValue message from the specified reader or buffer.
             * @function decode
             * @memberof trove.v1.KeyValue
             * @static
             * @param {$protobuf.Reader|Uint8Array} r Reader or buffer to decode from
             * @param {number} [l] Message length if known beforehand
             * @returns {trove.v1.KeyValue & trove.v1.KeyValue.$Shape} KeyValue
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            KeyValue.decode = function (r, l, z, q, g) {
                if (!(r instanceof $Reader))
                    r = $Reader.create(r);
                if (q === $undefined)
                    q = 0;
                if (q > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                var c, m, v;
                if (l === $undefined)
                    c = r.len;
                else {
                    c = r.pos + l;
                    if (c > r.len)
                        throw $RangeError("index out of range");
                    l = r.len;
                    r.len = c;
                }
                m = g || new $root.trove.v1.KeyValue();
                while (r.pos < c) {
                    var s = r.pos;
                    var t = r.tag();
                    if (t === z) {
                        z = $undefined;
                        break;
                    }
                    var u = t & 7;
                    switch (t >>>= 3) {
                    case 1: {
                            if (u !== 2)
                                break;
                            if ((v = r.stringVerify()).length)
                                m.key = v;
                            else
                                delete m.key;
                            continue;
                        }
                    case 2: {
                            if (u !== 2)
                                break;
                            if ((v = r.stringVerify()).length)
                                m.value = v;
                            else
                                delete m.value;
                            continue;
                        }
                    }
                    r.skipType(u, q, t);
                    if (!r.discardUnknown) {
                        $util.makeProp(m, "$unknowns", false);
                        (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
                    }
                }
                if (l !== $undefined) {
                    if (r.pos !== c)
                        throw $RangeError("index out of range");
                    r.len = l;
                }
                if (z !== $undefined)
                    throw $Error("missing end group");
                return m;
            };

            /**
             * Gets the type url for KeyValue
             * @function getTypeUrl
             * @memberof trove.v1.KeyValue
             * @static
             * @param {string} [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
             * @returns {string} The type url
             */
            KeyValue.getTypeUrl = function(prefix) {
                if (prefix === $undefined)
                    prefix = "type.googleapis.com";
                return prefix + "/trove.v1.KeyValue";
            };

            return KeyValue;
        })();

        v1.PackageInfo = (function() {

            /**
             * Properties of a PackageInfo.
             * @typedef {Object} trove.v1.PackageInfo.$Properties
             * @property {string|null} [name] PackageInfo name
             * @property {string|null} [arch] PackageInfo arch
             * @property {string|null} [version] PackageInfo version
             * @property {number|null} [revision] PackageInfo revision
             * @property {Array.<string>|null} [depends] PackageInfo depends
             * @property {Array.<string>|null} [preDepends] PackageInfo preDepends
             * @property {Array.<string>|null} [provides] PackageInfo provides
             * @property {string|null} [multiArch] PackageInfo multiArch
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of a PackageInfo.
             * @memberof trove.v1
             * @interface IPackageInfo
             * @augments trove.v1.PackageInfo.$Properties
             * @deprecated Use trove.v1.PackageInfo.$Properties instead.
             */

            /**
             * Shape of a PackageInfo.
             * @typedef {trove.v1.PackageInfo.$Properties} trove.v1.PackageInfo.$Shape
             */

            /**
             * Constructs a new PackageInfo.
             * @memberof trove.v1
             * @classdesc Represents a PackageInfo.
             * @constructor
             * @param {trove.v1.PackageInfo.$Properties=} [p] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const PackageInfo = function (p) {
                this.depends = [];
                this.preDepends = [];
                this.provides = [];
                if (p)
                    for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
                        if (p[ks[i]] != null && ks[i] !== "__proto__")
                            this[ks[i]] = p[ks[i]];
            };

            /**
             * PackageInfo name.
             * @member {string} name
             * @memberof trove.v1.PackageInfo
             * @instance
             */
            PackageInfo.prototype.name = "";

            /**
             * PackageInfo arch.
             * @member {string} arch
             * @memberof trove.v1.PackageInfo
             * @instance
             */
            PackageInfo.prototype.arch = "";

            /**
             * PackageInfo version.
             * @member {string} version
             * @memberof trove.v1.PackageInfo
             * @instance
             */
            PackageInfo.prototype.version = "";

            /**
             * PackageInfo revision.
             * @member {number} revision
             * @memberof trove.v1.PackageInfo
             * @instance
             */
            PackageInfo.prototype.revision = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

            /**
             * PackageInfo depends.
             * @member {Array.<string>} depends
             * @memberof trove.v1.PackageInfo
             * @instance
             */
            PackageInfo.prototype.depends = $util.emptyArray;

            /**
             * PackageInfo preDepends.
             * @member {Array.<string>} preDepends
             * @memberof trove.v1.PackageInfo
             * @instance
             */
            PackageInfo.prototype.preDepends = $util.emptyArray;

            /**
             * PackageInfo provides.
             * @member {Array.<string>} provides
             * @memberof trove.v1.PackageInfo
             * @instance
             */
            PackageInfo.prototype.provides = $util.emptyArray;

            /**
             * PackageInfo multiArch.
             * @member {string} multiArch
             * @memberof trove.v1.PackageInfo
             * @instance
             */
            PackageInfo.prototype.multiArch = "";

            /**
             * Creates a new PackageInfo instance using the specified properties.
             * @function create
             * @memberof trove.v1.PackageInfo
             * @static
             * @param {trove.v1.PackageInfo.$Properties=} [properties] Properties to set
             * @returns {trove.v1.PackageInfo} PackageInfo instance
             * @type {{
             *   (properties: trove.v1.PackageInfo.$Shape): trove.v1.PackageInfo & trove.v1.PackageInfo.$Shape;
             *   (properties?: trove.v1.PackageInfo.$Properties): trove.v1.PackageInfo;
             * }}
             */
            PackageInfo.create = function(properties) {
                return new PackageInfo(properties);
            };

            /**
             * Encodes the specified PackageInfo message. Does not implicitly {@link trove.v1.PackageInfo.verify|verify} messages.
             * @function encode
             * @memberof trove.v1.PackageInfo
             * @static
             * @param {trove.v1.PackageInfo.$Properties} m PackageInfo message or plain object to encode
             * @param {$protobuf.Writer} [w] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            PackageInfo.encode = function (m, w, q) {
                if (!w)
                    w = $Writer.create();
                if (q === $undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (m.name != null && $Object.hasOwnProperty.call(m, "name") && m.name !== "")
                    w.uint32(/* id 1, wireType 2 =*/10).string(m.name);
                if (m.arch != null && $Object.hasOwnProperty.call(m, "arch") && m.arch !== "")
                    w.uint32(/* id 2, wireType 2 =*/18).string(m.arch);
                if (m.version != null && $Object.hasOwnProperty.call(m, "version") && m.version !== "")
                    w.uint32(/* id 3, wireType 2 =*/26).string(m.version);
                if (m.revision != null && $Object.hasOwnProperty.call(m, "revision") && (typeof m.revision === "object" ? m.revision.low || m.revision.high : m.revision !== 0))
                    w.uint32(/* id 4, wireType 0 =*/32).uint64(m.revision);
                if (m.depends != null && m.depends.length) {
                    for (var i = 0; i < m.depends.length; ++i)
                        w.uint32(/* id 5, wireType 2 =*/42).string(m.depends[i]);
                }
                if (m.preDepends != null && m.preDepends.length) {
                    for (var i = 0; i < m.preDepends.length; ++i)
                        w.uint32(/* id 6, wireType 2 =*/50).string(m.preDepends[i]);
                }
                if (m.provides != null && m.provides.length) {
                    for (var i = 0; i < m.provides.length; ++i)
                        w.uint32(/* id 7, wireType 2 =*/58).string(m.provides[i]);
                }
                if (m.multiArch != null && $Object.hasOwnProperty.call(m, "multiArch") && m.multiArch !== "")
                    w.uint32(/* id 8, wireType 2 =*/66).string(m.multiArch);
                if (m.$unknowns != null && $Object.hasOwnProperty.call(m, "$unknowns"))
                    for (var i = 0; i < m.$unknowns.length; ++i)
                        w.raw(m.$unknowns[i]);
                return w;
            };

            /**
             * Decodes a PackageInfo message from the specified reader or buffer.
             * @function decode
             * @memberof trove.v1.PackageInfo
             * @static
             * @param {$protobuf.Reader|Uint8Array} r Reader or buffer to decode from
             * @param {number} [l] Message length if known beforehand
             * @returns {trove.v1.PackageInfo & trove.v1.PackageInfo.$Shape} PackageInfo
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            PackageInfo.decode = function (r, l, z, q, g) {
                if (!(r instanceof $Reader))
                    r = $Reader.create(r);
                if (q === $undefined)
                    q = 0;
                if (q > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                var c, m, v;
                if (l === $undefined)
                    c = r.len;
                else {
                    c = r.pos + l;
                    if (c > r.len)
                        throw $RangeError("index out of range");
                    l = r.len;
                    r.len = c;
                }
                m = g || new $root.trove.v1.PackageInfo();
                while (r.pos < c) {
                    var s = r.pos;
                    var t = r.tag();
                    if (t === z) {
                        z = $undefined;
                        break;
                    }
                    var u = t & 7;
                    switch (t >>>= 3) {
                    case 1: {
                            if (u !== 2)
                                break;
                            if ((v = r.stringVerify()).length)
                                m.name = v;
                            else
                                delete m.name;
                            continue;
                        }
                    case 2: {
                            if (u !== 2)
                                break;
                            if ((v = r.stringVerify()).length)
                                m.arch = v;
                            else
                                delete m.arch;
                            continue;
                        }
                    case 3: {
                            if (u !== 2)
                                break;
                            if ((v = r.stringVerify()).length)
                                m.version = v;
                            else
                                delete m.version;
                            continue;
                        }
                    case 4: {
                            if (u !== 0)
                                break;
                            if (typeof (v = r.uint64()) === "object" ? v.low || v.high : v !== 0)
                                m.revision = v;
                            else
                                delete m.revision;
                            continue;
                        }
                    case 5: {
                            if (u !== 2)
                                break;
                            if (!(m.depends && m.depends.length))
                                m.depends = [];
                            m.depends.push(r.stringVerify());
                            continue;
                        }
                    case 6: {
                            if (u !== 2)
                                break;
                            if (!(m.preDepends && m.preDepends.length))
                                m.preDepends = [];
                            m.preDepends.push(r.stringVerify());
                            continue;
                        }
                    case 7: {
                            if (u !== 2)
                                break;
                            if (!(m.provides && m.provides.length))
                                m.provides = [];
                            m.provides.push(r.stringVerify());
                            continue;
                        }
                    case 8: {
                            if (u !== 2)
                                break;
                            if ((v = r.stringVerify()).length)
                                m.multiArch = v;
                            else
                                delete m.multiArch;
                            continue;
                        }
                    }
                    r.skipType(u, q, t);
                    if (!r.discardUnknown) {
                        $util.makeProp(m, "$unknowns", false);
                        (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
                    }
                }
                if (l !== $undefined) {
                    if (r.pos !== c)
                        throw $RangeError("index out of range");
                    r.len = l;
                }
                if (z !== $undefined)
                    throw $Error("missing end group");
                return m;
            };

            /**
             * Gets the type url for PackageInfo
             * @function getTypeUrl
             * @memberof trove.v1.PackageInfo
             * @static
             * @param {string} [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
             * @returns {string} The type url
             */
            PackageInfo.getTypeUrl = function(prefix) {
                if (prefix === $undefined)
                    prefix = "type.googleapis.com";
                return prefix + "/trove.v1.PackageInfo";
            };

            return PackageInfo;
        })();

        v1.GenerationPackage = (function() {

            /**
             * Properties of a GenerationPackage.
             * @typedef {Object} trove.v1.GenerationPackage.$Properties
             * @property {string|null} [name] GenerationPackage name
             * @property {string|null} [arch] GenerationPackage arch
             * @property {string|null} [version] GenerationPackage version
             * @property {number|null} [revision] GenerationPackage revision
             * @property {Uint8Array|null} [commit] GenerationPackage commit
             * @property {number|null} [priority] GenerationPackage priority
             * @property {boolean|null} [dependency] GenerationPackage dependency
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of a GenerationPackage.
             * @memberof trove.v1
             * @interface IGenerationPackage
             * @augments trove.v1.GenerationPackage.$Properties
             * @deprecated Use trove.v1.GenerationPackage.$Properties instead.
             */

            /**
             * Shape of a GenerationPackage.
             * @typedef {trove.v1.GenerationPackage.$Properties} trove.v1.GenerationPackage.$Shape
             */

            /**
             * Constructs a new GenerationPackage.
             * @memberof trove.v1
             * @classdesc Represents a GenerationPackage.
             * @constructor
             * @param {trove.v1.GenerationPackage.$Properties=} [p] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const GenerationPackage = function (p) {
                if (p)
                    for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
                        if (p[ks[i]] != null && ks[i] !== "__proto__")
                            this[ks[i]] = p[ks[i]];
            };

            /**
             * GenerationPackage name.
             * @member {string} name
             * @memberof trove.v1.GenerationPackage
             * @instance
             */
            GenerationPackage.prototype.name = "";

            /**
             * GenerationPackage arch.
             * @member {string} arch
             * @memberof trove.v1.GenerationPackage
             * @instance
             */
            GenerationPackage.prototype.arch = "";

            /**
             * GenerationPackage version.
             * @member {string} version
             * @memberof trove.v1.GenerationPackage
             * @instance
             */
            GenerationPackage.prototype.version = "";

            /**
             * GenerationPackage revision.
             * @member {number} revision
             * @memberof trove.v1.GenerationPackage
             * @instance
             */
            GenerationPackage.prototype.revision = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

            /**
             * GenerationPackage commit.
             * @member {Uint8Array} commit
             * @memberof trove.v1.GenerationPackage
             * @instance
             */
            GenerationPackage.prototype.commit = $util.newBuffer([]);

            /**
             * GenerationPackage priority.
             * @member {number} priority
             * @memberof trove.v1.GenerationPackage
             * @instance
             */
            GenerationPackage.prototype.priority = 0;

            /**
             * GenerationPackage dependency.
             * @member {boolean} dependency
             * @memberof trove.v1.GenerationPackage
             * @instance
             */
            GenerationPackage.prototype.dependency = false;

            /**
             * Creates a new GenerationPackage instance using the specified properties.
             * @function create
             * @memberof trove.v1.GenerationPackage
             * @static
             * @param {trove.v1.GenerationPackage.$Properties=} [properties] Properties to set
             * @returns {trove.v1.GenerationPackage} GenerationPackage instance
             * @type {{
             *   (properties: trove.v1.GenerationPackage.$Shape): trove.v1.GenerationPackage & trove.v1.GenerationPackage.$Shape;
             *   (properties?: trove.v1.GenerationPackage.$Properties): trove.v1.GenerationPackage;
             * }}
             */
            GenerationPackage.create = function(properties) {
                return new GenerationPackage(properties);
            };

            /**
             * Encodes the specified GenerationPackage message. Does not implicitly {@link trove.v1.GenerationPackage.verify|verify} messages.
             * @function encode
             * @memberof trove.v1.GenerationPackage
             * @static
             * @param {trove.v1.GenerationPackage.$Properties} m GenerationPackage message or plain object to encode
             * @param {$protobuf.Writer} [w] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            GenerationPackage.encode = function (m, w, q) {
                if (!w)
                    w = $Writer.create();
                if (q === $undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (m.name != null && $Object.hasOwnProperty.call(m, "name") && m.name !== "")
                    w.uint32(/* id 1, wireType 2 =*/10).string(m.name);
                if (m.arch != null && $Object.hasOwnProperty.call(m, "arch") && m.arch !== "")
                    w.uint32(/* id 2, wireType 2 =*/18).string(m.arch);
                if (m.version != null && $Object.hasOwnProperty.call(m, "version") && m.version !== "")
                    w.uint32(/* id 3, wireType 2 =*/26).string(m.version);
                if (m.revision != null && $Object.hasOwnProperty.call(m, "revision") && (typeof m.revision === "object" ? m.revision.low || m.revision.high : m.revision !== 0))
                    w.uint32(/* id 4, wireType 0 =*/32).uint64(m.revision);
                if (m.commit != null && $Object.hasOwnProperty.call(m, "commit") && m.commit.length)
                    w.uint32(/* id 5, wireType 2 =*/42).bytes(m.commit);
                if (m.priority != null && $Object.hasOwnProperty.call(m, "priority") && m.priority !== 0)
                    w.uint32(/* id 6, wireType 0 =*/48).int32(m.priority);
                if (m.dependency != null && $Object.hasOwnProperty.call(m, "dependency") && m.dependency !== false)
                    w.uint32(/* id 7, wireType 0 =*/56).bool(m.dependency);
                if (m.$unknowns != null && $Object.hasOwnProperty.call(m, "$unknowns"))
                    for (var i = 0; i < m.$unknowns.length; ++i)
                        w.raw(m.$unknowns[i]);
                return w;
            };

            /**
             * Decodes a GenerationPackage message from the specified reader or buffer.
             * @function decode
             * @memberof trove.v1.GenerationPackage
             * @static
             * @param {$protobuf.Reader|Uint8Array} r Reader or buffer to decode from
             * @param {number} [l] Message length if known beforehand
             * @returns {trove.v1.GenerationPackage & trove.v1.GenerationPackage.$Shape} GenerationPackage
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            GenerationPackage.decode = function (r, l, z, q, g) {
                if (!(r instanceof $Reader))
                    r = $Reader.create(r);
                if (q === $undefined)
                    q = 0;
                if (q > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                var c, m, v;
                if (l === $undefined)
                    c = r.len;
                else {
                    c = r.pos + l;
                    if (c > r.len)
                        throw $RangeError("index out of range");
                    l = r.len;
                    r.len = c;
                }
                m = g || new $root.trove.v1.GenerationPackage();
                while (r.pos < c) {
                    var s = r.pos;
                    var t = r.tag();
                    if (t === z) {
                        z = $undefined;
                        break;
                    }
                    var u = t & 7;
                    switch (t >>>= 3) {
                    case 1: {
                            if (u !== 2)
                                break;
                            if ((v = r.stringVerify()).length)
                                m.name = v;
                            else
                                delete m.name;
                            continue;
                        }
                    case 2: {
                            if (u !== 2)
                                break;
                            if ((v = r.stringVerify()).length)
                                m.arch = v;
                            else
                                delete m.arch;
                            continue;
                        }
                    case 3: {
                            if (u !== 2)
                                break;
                            if ((v = r.stringVerify()).length)
                                m.version = v;
                            else
                                delete m.version;
                            continue;
                        }
                    case 4: {
                            if (u !== 0)
                                break;
                            if (typeof (v = r.uint64()) === "object" ? v.low || v.high : v !== 0)
                                m.revision = v;
                            else
                                delete m.revision;
                            continue;
                        }
                    case 5: {
                            if (u !== 2)
                                break;
                            if ((v = r.bytes()).length)
                                m.commit = v;
                            else
                                delete m.commit;
                            continue;
                        }
                    case 6: {
                            if (u !== 0)
                                break;
                            if (v = r.int32())
                                m.priority = v;
                            else
                                delete m.priority;
                            continue;
                        }
                    case 7: {
                            if (u !== 0)
                                break;
                            if (v = r.bool())
                                m.dependency = v;
                            else
                                delete m.dependency;
                            continue;
                        }
                    }
                    r.skipType(u, q, t);
                    if (!r.discardUnknown) {
                        $util.makeProp(m, "$unknowns", false);
                        (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
                    }
                }
                if (l !== $undefined) {
                    if (r.pos !== c)
                        throw $RangeError("index out of range");
                    r.len = l;
                }
                if (z !== $undefined)
                    throw $Error("missing end group");
                return m;
            };

            /**
             * Gets the type url for GenerationPackage
             * @function getTypeUrl
             * @memberof trove.v1.GenerationPackage
             * @static
             * @param {string} [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
             * @returns {string} The type url
             */
            GenerationPackage.getTypeUrl = function(prefix) {
                if (prefix === $undefined)
                    prefix = "type.googleapis.com";
                return prefix + "/trove.v1.GenerationPackage";
            };

            return GenerationPackage;
        })();

        v1.Conflict = (function() {

            /**
             * Properties of a Conflict.
             * @typedef {Object} trove.v1.Conflict.$Properties
             * @property {string|null} [path] Conflict path
             * @property {string|null} [winner] Conflict winner
             * @property {Array.<string>|null} [losers] Conflict losers
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of a Conflict.
             * @memberof trove.v1
             * @interface IConflict
             * @augments trove.v1.Conflict.$Properties
             * @deprecated Use trove.v1.Conflict.$Properties instead.
             */

            /**
             * Shape of a Conflict.
             * @typedef {trove.v1.Conflict.$Properties} trove.v1.Conflict.$Shape
             */

            /**
             * Constructs a new Conflict.
             * @memberof trove.v1
             * @classdesc Represents a Conflict.
             * @constructor
             * @param {trove.v1.Conflict.$Properties=} [p] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const Conflict = function (p) {
                this.losers = [];
                if (p)
                    for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
                        if (p[ks[i]] != null && ks[i] !== "__proto__")
                            this[ks[i]] = p[ks[i]];
            };

            /**
             * Conflict path.
             * @member {string} path
             * @memberof trove.v1.Conflict
             * @instance
             */
            Conflict.prototype.path = "";

            /**
             * Conflict winner.
             * @member {string} winner
             * @memberof trove.v1.Conflict
             * @instance
             */
            Conflict.prototype.winner = "";

            /**
             * Conflict losers.
             * @member {Array.<string>} losers
             * @memberof trove.v1.Conflict
             * @instance
             */
            Conflict.prototype.losers = $util.emptyArray;

            /**
             * Creates a new Conflict instance using the specified properties.
             * @function create
             * @memberof trove.v1.Conflict
             * @static
             * @param {trove.v1.Conflict.$Properties=} [properties] Properties to set
             * @returns {trove.v1.Conflict} Conflict instance
             * @type {{
             *   (properties: trove.v1.Conflict.$Shape): trove.v1.Conflict & trove.v1.Conflict.$Shape;
             *   (properties?: trove.v1.Conflict.$Properties): trove.v1.Conflict;
             * }}
             */
            Conflict.create = function(properties) {
                return new Conflict(properties);
            };

            /**
             * Encodes the specified Conflict message. Does not implicitly {@link trove.v1.Conflict.verify|verify} messages.
             * @function encode
             * @memberof trove.v1.Conflict
             * @static
             * @param {trove.v1.Conflict.$Properties} m Conflict message or plain object to encode
             * @param {$protobuf.Writer} [w] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Conflict.encode = function (m, w, q) {
                if (!w)
                    w = $Writer.create();
                if (q === $undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (m.path != null && $Object.hasOwnProperty.call(m, "path") && m.path !== "")
                    w.uint32(/* id 1, wireType 2 =*/10).string(m.path);
                if (m.winner != null && $Object.hasOwnProperty.call(m, "winner") && m.winner !== "")
                    w.uint32(/* id 2, wireType 2 =*/18).string(m.winner);
                if (m.losers != null && m.losers.length) {
                    for (var i = 0; i < m.losers.length; ++i)
                        w.uint32(/* id 3, wireType 2 =*/26).string(m.losers[i]);
                }
                if (m.$unknowns != null && $Object.hasOwnProperty.call(m, "$unknowns"))
                    for (var i = 0; i < m.$unknowns.length; ++i)
                        w.raw(m.$unknowns[i]);
                return w;
            };

            /**
             * Decodes a Conflict message from the specified reader or buffer.
             * @function decode
             * @memberof trove.v1.Conflict
             * @static
             * @param {$protobuf.Reader|Uint8Array} r Reader or buffer to decode from
             * @param {number} [l] Message length if known beforehand
             * @returns {trove.v1.Conflict & trove.v1.Conflict.$Shape} Conflict
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Conflict.decode = function (r, l, z, q, g) {
                if (!(r instanceof $Reader))
                    r = $Reader.create(r);
                if (q === $undefined)
                    q = 0;
                if (q > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                var c, m, v;
                if (l === $undefined)
                    c = r.len;
                else {
                    c = r.pos + l;
                    if (c > r.len)
                        throw $RangeError("index out of range");
                    l = r.len;
                    r.len = c;
                }
                m = g || new $root.trove.v1.Conflict();
                while (r.pos < c) {
                    var s = r.pos;
                    var t = r.tag();
                    if (t === z) {
                        z = $undefined;
                        break;
                    }
                    var u = t & 7;
                    switch (t >>>= 3) {
                    case 1: {
                            if (u !== 2)
                                break;
                            if ((v = r.stringVerify()).length)
                                m.path = v;
                            else
                                delete m.path;
                            continue;
                        }
                    case 2: {
                            if (u !== 2)
                                break;
                            if ((v = r.stringVerify()).length)
                                m.winner = v;
                            else
                                delete m.winner;
                            continue;
                        }
                    case 3: {
                            if (u !== 2)
                                break;
                            if (!(m.losers && m.losers.length))
                                m.losers = [];
                            m.losers.push(r.stringVerify());
                            continue;
                        }
                    }
                    r.skipType(u, q, t);
                    if (!r.discardUnknown) {
                        $util.makeProp(m, "$unknowns", false);
                        (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
                    }
                }
                if (l !== $undefined) {
                    if (r.pos !== c)
                        throw $RangeError("index out of range");
                    r.len = l;
                }
                if (z !== $undefined)
                    throw $Error("missing end group");
                return m;
            };

            /**
             * Gets the type url for Conflict
             * @function getTypeUrl
             * @memberof trove.v1.Conflict
             * @static
             * @param {string} [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
             * @returns {string} The type url
             */
            Conflict.getTypeUrl = function(prefix) {
                if (prefix === $undefined)
                    prefix = "type.googleapis.com";
                return prefix + "/trove.v1.Conflict";
            };

            return Conflict;
        })();

        v1.GenerationInfo = (function() {

            /**
             * Properties of a GenerationInfo.
             * @typedef {Object} trove.v1.GenerationInfo.$Properties
             * @property {string|null} [profile] GenerationInfo profile
             * @property {Array.<trove.v1.GenerationPackage.$Properties>|null} [packages] GenerationInfo packages
             * @property {Array.<trove.v1.Conflict.$Properties>|null} [conflicts] GenerationInfo conflicts
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of a GenerationInfo.
             * @memberof trove.v1
             * @interface IGenerationInfo
             * @augments trove.v1.GenerationInfo.$Properties
             * @deprecated Use trove.v1.GenerationInfo.$Properties instead.
             */

            /**
             * Shape of a GenerationInfo.
             * @typedef {trove.v1.GenerationInfo.$Properties} trove.v1.GenerationInfo.$Shape
             */

            /**
             * Constructs a new GenerationInfo.
             * @memberof trove.v1
             * @classdesc Represents a GenerationInfo.
             * @constructor
             * @param {trove.v1.GenerationInfo.$Properties=} [p] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const GenerationInfo = function (p) {
                this.packages = [];
                this.conflicts = [];
                if (p)
                    for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
                        if (p[ks[i]] != null && ks[i] !== "__proto__")
                            this[ks[i]] = p[ks[i]];
            };

            /**
             * GenerationInfo profile.
             * @member {string} profile
             * @memberof trove.v1.GenerationInfo
             * @instance
             */
            GenerationInfo.prototype.profile = "";

            /**
             * GenerationInfo packages.
             * @member {Array.<trove.v1.GenerationPackage.$Properties>} packages
             * @memberof trove.v1.GenerationInfo
             * @instance
             */
            GenerationInfo.prototype.packages = $util.emptyArray;

            /**
             * GenerationInfo conflicts.
             * @member {Array.<trove.v1.Conflict.$Properties>} conflicts
             * @memberof trove.v1.GenerationInfo
             * @instance
             */
            GenerationInfo.prototype.conflicts = $util.emptyArray;

            /**
             * Creates a new GenerationInfo instance using the specified properties.
             * @function create
             * @memberof trove.v1.GenerationInfo
             * @static
             * @param {trove.v1.GenerationInfo.$Properties=} [properties] Properties to set
             * @returns {trove.v1.GenerationInfo} GenerationInfo instance
             * @type {{
             *   (properties: trove.v1.GenerationInfo.$Shape): trove.v1.GenerationInfo & trove.v1.GenerationInfo.$Shape;
             *   (properties?: trove.v1.GenerationInfo.$Properties): trove.v1.GenerationInfo;
             * }}
             */
            GenerationInfo.create = function(properties) {
                return new GenerationInfo(properties);
            };

            /**
             * Encodes the specified GenerationInfo message. Does not implicitly {@link trove.v1.GenerationInfo.verify|verify} messages.
             * @function encode
             * @memberof trove.v1.GenerationInfo
             * @static
             * @param {trove.v1.GenerationInfo.$Properties} m GenerationInfo message or plain object to encode
             * @param {$protobuf.Writer} [w] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            GenerationInfo.encode = function (m, w, q) {
                if (!w)
                    w = $Writer.create();
                if (q === $undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (m.profile != null && $Object.hasOwnProperty.call(m, "profile") && m.profile !== "")
                    w.uint32(/* id 1, wireType 2 =*/10).string(m.profile);
                if (m.packages != null && m.packages.length) {
                    for (var i = 0; i < m.packages.length; ++i)
                        $root.trove.v1.GenerationPackage.encode(m.packages[i], w.uint32(/* id 2, wireType 2 =*/18).fork(), q + 1).ldelim();
                }
                if (m.conflicts != null && m.conflicts.length) {
                    for (var i = 0; i < m.conflicts.length; ++i)
                        $root.trove.v1.Conflict.encode(m.conflicts[i], w.uint32(/* id 3, wireType 2 =*/26).fork(), q + 1).ldelim();
                }
                if (m.$unknowns != null && $Object.hasOwnProperty.call(m, "$unknowns"))
                    for (var i = 0; i < m.$unknowns.length; ++i)
                        w.raw(m.$unknowns[i]);
                return w;
            };

            /**
             * Decodes a GenerationInfo message from the specified reader or buffer.
             * @function decode
             * @memberof trove.v1.GenerationInfo
             * @static
             * @param {$protobuf.Reader|Uint8Array} r Reader or buffer to decode from
             * @param {number} [l] Message length if known beforehand
             * @returns {trove.v1.GenerationInfo & trove.v1.GenerationInfo.$Shape} GenerationInfo
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            GenerationInfo.decode = function (r, l, z, q, g) {
                if (!(r instanceof $Reader))
                    r = $Reader.create(r);
                if (q === $undefined)
                    q = 0;
                if (q > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                var c, m, v;
                if (l === $undefined)
                    c = r.len;
                else {
                    c = r.pos + l;
                    if (c > r.len)
                        throw $RangeError("index out of range");
                    l = r.len;
                    r.len = c;
                }
                m = g || new $root.trove.v1.GenerationInfo();
                while (r.pos < c) {
                    var s = r.pos;
                    var t = r.tag();
                    if (t === z) {
                        z = $undefined;
                        break;
                    }
                    var u = t & 7;
                    switch (t >>>= 3) {
                    case 1: {
                            if (u !== 2)
                                break;
                            if ((v = r.stringVerify()).length)
                                m.profile = v;
                            else
                                delete m.profile;
                            continue;
                        }
                    case 2: {
                            if (u !== 2)
                                break;
                            if (!(m.packages && m.packages.length))
                                m.packages = [];
                            m.packages.push($root.trove.v1.GenerationPackage.decode(r, r.size(), $undefined, q + 1));
                            continue;
                        }
                    case 3: {
                            if (u !== 2)
                                break;
                            if (!(m.conflicts && m.conflicts.length))
                                m.conflicts = [];
                            m.conflicts.push($root.trove.v1.Conflict.decode(r, r.size(), $undefined, q + 1));
                            continue;
                        }
                    }
                    r.skipType(u, q, t);
                    if (!r.discardUnknown) {
                        $util.makeProp(m, "$unknowns", false);
                        (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
                    }
                }
                if (l !== $undefined) {
                    if (r.pos !== c)
                        throw $RangeError("index out of range");
                    r.len = l;
                }
                if (z !== $undefined)
                    throw $Error("missing end group");
                return m;
            };

            /**
             * Gets the type url for GenerationInfo
             * @function getTypeUrl
             * @memberof trove.v1.GenerationInfo
             * @static
             * @param {string} [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
             * @returns {string} The type url
             */
            GenerationInfo.getTypeUrl = function(prefix) {
                if (prefix === $undefined)
                    prefix = "type.googleapis.com";
                return prefix + "/trove.v1.GenerationInfo";
            };

            return GenerationInfo;
        })();

        v1.Commit = (function() {

            /**
             * Properties of a Commit.
             * @typedef {Object} trove.v1.Commit.$Properties
             * @property {Uint8Array|null} [tree] Commit tree
             * @property {trove.v1.DirMeta.$Properties|null} [root] Commit root
             * @property {Array.<Uint8Array>|null} [parents] Commit parents
             * @property {string|null} [subject] Commit subject
             * @property {string|null} [body] Commit body
             * @property {number|null} [timestamp] Commit timestamp
             * @property {Array.<trove.v1.KeyValue.$Properties>|null} [metadata] Commit metadata
             * @property {trove.v1.PackageInfo.$Properties|null} ["package"] Commit package
             * @property {trove.v1.GenerationInfo.$Properties|null} [generation] Commit generation
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of a Commit.
             * @memberof trove.v1
             * @interface ICommit
             * @augments trove.v1.Commit.$Properties
             * @deprecated Use trove.v1.Commit.$Properties instead.
             */

            /**
             * Shape of a Commit.
             * @typedef {trove.v1.Commit.$Properties} trove.v1.Commit.$Shape
             */

            /**
             * Constructs a new Commit.
             * @memberof trove.v1
             * @classdesc Represents a Commit.
             * @constructor
             * @param {trove.v1.Commit.$Properties=} [p] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const Commit = function (p) {
                this.parents = [];
                this.metadata = [];
                if (p)
                    for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
                        if (p[ks[i]] != null && ks[i] !== "__proto__")
                            this[ks[i]] = p[ks[i]];
            };

            /**
             * Commit tree.
             * @member {Uint8Array} tree
             * @memberof trove.v1.Commit
             * @instance
             */
            Commit.prototype.tree = $util.newBuffer([]);

            /**
             * Commit root.
             * @member {trove.v1.DirMeta.$Properties|null|undefined} root
             * @memberof trove.v1.Commit
             * @instance
             */
            Commit.prototype.root = null;

            /**
             * Commit parents.
             * @member {Array.<Uint8Array>} parents
             * @memberof trove.v1.Commit
             * @instance
             */
            Commit.prototype.parents = $util.emptyArray;

            /**
             * Commit subject.
             * @member {string} subject
             * @memberof trove.v1.Commit
             * @instance
             */
            Commit.prototype.subject = "";

            /**
             * Commit body.
             * @member {string} body
             * @memberof trove.v1.Commit
             * @instance
             */
            Commit.prototype.body = "";

            /**
             * Commit timestamp.
             * @member {number} timestamp
             * @memberof trove.v1.Commit
             * @instance
             */
            Commit.prototype.timestamp = $util.Long ? $util.Long.fromBits(0,0,false) : 0;

            /**
             * Commit metadata.
             * @member {Array.<trove.v1.KeyValue.$Properties>} metadata
             * @memberof trove.v1.Commit
             * @instance
             */
            Commit.prototype.metadata = $util.emptyArray;

            /**
             * Commit package.
             * @member {trove.v1.PackageInfo.$Properties|null|undefined} package
             * @memberof trove.v1.Commit
             * @instance
             */
            Commit.prototype["package"] = null;

            /**
             * Commit generation.
             * @member {trove.v1.GenerationInfo.$Properties|null|undefined} generation
             * @memberof trove.v1.Commit
             * @instance
             */
            Commit.prototype.generation = null;

            /**
             * Creates a new Commit instance using the specified properties.
             * @function create
             * @memberof trove.v1.Commit
             * @static
             * @param {trove.v1.Commit.$Properties=} [properties] Properties to set
             * @returns {trove.v1.Commit} Commit instance
             * @type {{
             *   (properties: trove.v1.Commit.$Shape): trove.v1.Commit & trove.v1.Commit.$Shape;
             *   (properties?: trove.v1.Commit.$Properties): trove.v1.Commit;
             * }}
             */
            Commit.create = function(properties) {
                return new Commit(properties);
            };

            /**
             * Encodes the specified Commit message. Does not implicitly {@link trove.v1.Commit.verify|verify} messages.
             * @function encode
             * @memberof trove.v1.Commit
             * @static
             * @param {trove.v1.Commit.$Properties} m Commit message or plain object to encode
             * @param {$protobuf.Writer} [w] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Commit.encode = function (m, w, q) {
                if (!w)
                    w = $Writer.create();
                if (q === $undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (m.tree != null && $Object.hasOwnProperty.call(m, "tree") && m.tree.length)
                    w.uint32(/* id 1, wireType 2 =*/10).bytes(m.tree);
                if (m.root != null && $Object.hasOwnProperty.call(m, "root"))
                    $root.trove.v1.DirMeta.encode(m.root, w.uint32(/* id 2, wireType 2 =*/18).fork(), q + 1).ldelim();
                if (m.parents != null && m.parents.length) {
                    for (var i = 0; i < m.parents.length; ++i)
                        w.uint32(/* id 3, wireType 2 =*/26).bytes(m.parents[i]);
                }
                if (m.subject != null && $Object.hasOwnProperty.call(m, "subject") && m.subject !== "")
                    w.uint32(/* id 4, wireType 2 =*/34).string(m.subject);
                if (m.body != null && $Object.hasOwnProperty.call(m, "body") && m.body !== "")
                    w.uint32(/* id 5, wireType 2 =*/42).string(m.body);
                if (m.timestamp != null && $Object.hasOwnProperty.call(m, "timestamp") && (typeof m.timestamp === "object" ? m.timestamp.low || m.timestamp.high : m.timestamp !== 0))
                    w.uint32(/* id 6, wireType 0 =*/48).int64(m.timestamp);
                if (m.metadata != null && m.metadata.length) {
                    for (var i = 0; i < m.metadata.length; ++i)
                        $root.trove.v1.KeyValue.encode(m.metadata[i], w.uint32(/* id 7, wireType 2 =*/58).fork(), q + 1).ldelim();
                }
                if (m["package"] != null && $Object.hasOwnProperty.call(m, "package"))
                    $root.trove.v1.PackageInfo.encode(m["package"], w.uint32(/* id 8, wireType 2 =*/66).fork(), q + 1).ldelim();
                if (m.generation != null && $Object.hasOwnProperty.call(m, "generation"))
                    $root.trove.v1.GenerationInfo.encode(m.generation, w.uint32(/* id 9, wireType 2 =*/74).fork(), q + 1).ldelim();
                if (m.$unknowns != null && $Object.hasOwnProperty.call(m, "$unknowns"))
                    for (var i = 0; i < m.$unknowns.length; ++i)
                        w.raw(m.$unknowns[i]);
                return w;
            };

            /**
             * Decodes a Commit message from the specified reader or buffer.
             * @function decode
             * @memberof trove.v1.Commit
             * @static
             * @param {$protobuf.Reader|Uint8Array} r Reader or buffer to decode from
             * @param {number} [l] Message length if known beforehand
             * @returns {trove.v1.Commit & trove.v1.Commit.$Shape} Commit
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Commit.decode = function (r, l, z, q, g) {
                if (!(r instanceof $Reader))
                    r = $Reader.create(r);
                if (q === $undefined)
                    q = 0;
                if (q > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                var c, m, v;
                if (l === $undefined)
                    c = r.len;
                else {
                    c = r.pos + l;
                    if (c > r.len)
                        throw $RangeError("index out of range");
                    l = r.len;
                    r.len = c;
                }
                m = g || new $root.trove.v1.Commit();
                while (r.pos < c) {
                    var s = r.pos;
                    var t = r.tag();
                    if (t === z) {
                        z = $undefined;
                        break;
                    }
                    var u = t & 7;
                    switch (t >>>= 3) {
                    case 1: {
                            if (u !== 2)
                                break;
                            if ((v = r.bytes()).length)
                                m.tree = v;
                            else
                                delete m.tree;
                            continue;
                        }
                    case 2: {
                            if (u !== 2)
                                break;
                            m.root = $root.trove.v1.DirMeta.decode(r, r.size(), $undefined, q + 1, m.root);
                            continue;
                        }
                    case 3: {
                            if (u !== 2)
                                break;
                            if (!(m.parents && m.parents.length))
                                m.parents = [];
                            m.parents.push(r.bytes());
                            continue;
                        }
                    case 4: {
                            if (u !== 2)
                                break;
                            if ((v = r.stringVerify()).length)
                                m.subject = v;
                            else
                                delete m.subject;
                            continue;
                        }
                    case 5: {
                            if (u !== 2)
                                break;
                            if ((v = r.stringVerify()).length)
                                m.body = v;
                            else
                                delete m.body;
                            continue;
                        }
                    case 6: {
                            if (u !== 0)
                                break;
                            if (typeof (v = r.int64()) === "object" ? v.low || v.high : v !== 0)
                                m.timestamp = v;
                            else
                                delete m.timestamp;
                            continue;
                        }
                    case 7: {
                            if (u !== 2)
                                break;
                            if (!(m.metadata && m.metadata.length))
                                m.metadata = [];
                            m.metadata.push($root.trove.v1.KeyValue.decode(r, r.size(), $undefined, q + 1));
                            continue;
                        }
                    case 8: {
                            if (u !== 2)
                                break;
                            m["package"] = $root.trove.v1.PackageInfo.decode(r, r.size(), $undefined, q + 1, m["package"]);
                            continue;
                        }
                    case 9: {
                            if (u !== 2)
                                break;
                            m.generation = $root.trove.v1.GenerationInfo.decode(r, r.size(), $undefined, q + 1, m.generation);
                            continue;
                        }
                    }
                    r.skipType(u, q, t);
                    if (!r.discardUnknown) {
                        $util.makeProp(m, "$unknowns", false);
                        (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
                    }
                }
                if (l !== $undefined) {
                    if (r.pos !== c)
                        throw $RangeError("index out of range");
                    r.len = l;
                }
                if (z !== $undefined)
                    throw $Error("missing end group");
                return m;
            };

            /**
             * Gets the type url for Commit
             * @function getTypeUrl
             * @memberof trove.v1.Commit
             * @static
             * @param {string} [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
             * @returns {string} The type url
             */
            Commit.getTypeUrl = function(prefix) {
                if (prefix === $undefined)
                    prefix = "type.googleapis.com";
                return prefix + "/trove.v1.Commit";
            };

            return Commit;
        })();

        return v1;
    })();

    return trove;
})();

export {
  $root as default
};
